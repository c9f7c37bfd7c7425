// Counts in messages: "1 block", "2 blocks", never "1 blocks".

/** `n` and the noun, in the singular for 1 (the plural given, or the noun with an s). */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`
}
