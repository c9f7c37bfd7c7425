// What each fault scenario reports, the targets of issue 12, and the table the suite prints.

export interface FaultResult {
  readonly scenario: string
  readonly rounds: number
  /** Writes the system acknowledged before the fault. */
  readonly acked: number
  /** Acknowledged writes that were missing or wrong afterwards (target: 0). */
  readonly lost: number
  /** Corruptions injected, and how many of them a check reported (target: all). */
  readonly injected: number
  readonly detected: number
  /** Bad inputs sent, and how many were refused with a clear error and no state change (target: all). */
  readonly badInputs: number
  readonly refused: number
  /** The highest resident memory seen, MiB; and a bound it must stay under, if the scenario has one. */
  readonly peakMiB?: number
  readonly peakLimitMiB?: number
  /** What went wrong, one line each (empty when every target is met). */
  readonly problems: readonly string[]
}

export function result(scenario: string, fields: Partial<Omit<FaultResult, 'scenario'>>): FaultResult {
  return {
    scenario,
    rounds: 0,
    acked: 0,
    lost: 0,
    injected: 0,
    detected: 0,
    badInputs: 0,
    refused: 0,
    problems: [],
    ...fields,
  }
}

/** The targets a result misses, one line each. */
export function misses(r: FaultResult): string[] {
  const out = [...r.problems]
  if (r.lost > 0) out.push(`${r.lost} acknowledged writes lost`)
  if (r.detected < r.injected) out.push(`${r.injected - r.detected} of ${r.injected} corruptions not detected`)
  if (r.refused < r.badInputs) out.push(`${r.badInputs - r.refused} of ${r.badInputs} bad inputs not refused cleanly`)
  if (r.peakMiB !== undefined && r.peakLimitMiB !== undefined && r.peakMiB > r.peakLimitMiB)
    out.push(`peak memory ${r.peakMiB} MiB over its bound of ${r.peakLimitMiB} MiB`)
  return out.map((line) => `${r.scenario}: ${line}`)
}

/** A Markdown table of the results (the form docs/reliability.md quotes). */
export function table(results: readonly FaultResult[]): string {
  const head = [
    'scenario',
    'rounds',
    'acknowledged',
    'lost',
    'corruptions detected',
    'bad inputs refused',
    'peak memory',
  ]
  const rows = results.map((r) => [
    r.scenario,
    String(r.rounds),
    r.acked === 0 ? '-' : String(r.acked),
    r.acked === 0 ? '-' : String(r.lost),
    r.injected === 0 ? '-' : `${r.detected} / ${r.injected}`,
    r.badInputs === 0 ? '-' : `${r.refused} / ${r.badInputs}`,
    r.peakMiB === undefined
      ? '-'
      : `${r.peakMiB} MiB${r.peakLimitMiB === undefined ? '' : ` (bound ${r.peakLimitMiB})`}`,
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}
