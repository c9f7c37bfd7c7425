// Which of the daemon's addresses this page can dial. A page served over https may only open
// wss:// connections (a ws:// one to another host is blocked as mixed content, with no error the
// page can read), so it dials the secure ones (/tls/ws, /wss) only, and says what to set when
// there are none. (Chromium lets an https page reach ws://127.0.0.1; a site's users have no
// daemon there.)

/** Whether a multiaddr is a secure WebSocket one. */
export function isSecure(address: string): boolean {
  return /\/(tls\/(sni\/[^/]+\/)?ws|wss)(\/|$)/.test(address)
}

/** The addresses a page loaded over `protocol` ('https:', 'http:') can dial. */
export function dialable(addresses: readonly string[], protocol: string): string[] {
  if (protocol !== 'https:') return [...addresses]
  const secure = addresses.filter(isSecure)
  if (secure.length === 0)
    throw new Error(
      'this page is served over https, so it can only dial wss:// addresses, and the daemon offers none: give it a certificate ("tls" and a /tls/ws listen address in its config.json) or announce the wss address of a reverse proxy in front of it ("announce"); see docs/deploy.md',
    )
  return secure
}
