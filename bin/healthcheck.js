#!/usr/bin/env node
// Container healthcheck: exits 0 when tallyd answers 200 on /health/ready, 1 otherwise. It reads
// the same TALLYD_HTTP address the daemon listens on (a wildcard host is reached via loopback),
// so it needs no curl in the image.
const addr = process.env.TALLYD_HTTP || '127.0.0.1:9477';
const i = addr.lastIndexOf(':');
let host = addr.slice(0, i).replace(/^\[|\]$/g, '');
const port = addr.slice(i + 1);
if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
if (host === '::') host = '::1';
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/health/ready`;
fetch(url, { signal: AbortSignal.timeout(4000) }).then(
  (r) => process.exit(r.status === 200 ? 0 : 1),
  () => process.exit(1),
);
