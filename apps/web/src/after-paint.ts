// Runs a function once the frame showing what was just rendered has been painted: the page loads
// libp2p only after its first key is on screen (docs/bundle.md), not in the same task that put
// the key in the DOM. A hidden tab paints nothing (and gets no animation frames): at once there.
export function afterPaint(fn: () => void): void {
  if (document.hidden) setTimeout(fn, 0)
  else requestAnimationFrame(() => setTimeout(fn, 0))
}
