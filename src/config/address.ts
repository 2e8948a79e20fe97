/** ListenAddress is a parsed `host:port`; port 0 means the listener is disabled. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** parseAddress parses `host:port`, `[v6]:port` or `:port` (host defaults to 127.0.0.1). */
export function parseAddress(text: string): ListenAddress | null {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || text[end + 1] !== ':') return null;
    host = text.slice(1, end);
    portText = text.slice(end + 2);
  } else {
    const i = text.lastIndexOf(':');
    if (i < 0) return null;
    host = text.slice(0, i) || '127.0.0.1';
    portText = text.slice(i + 1);
  }
  if (!/^\d+$/.test(portText)) return null;
  const port = Number(portText);
  if (port > 65535) return null;
  return { host, port };
}

/** isLoopback tells whether a host only accepts local connections. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** formatAddress renders an address for logs and URLs. */
export function formatAddress(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
