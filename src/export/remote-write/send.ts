/** SendOutcome classifies one POST: delivered, worth retrying, or refused for good. */
export type SendOutcome = { kind: 'ok' } | { kind: 'retry'; reason: string } | { kind: 'rejected'; reason: string };

/** SendTarget is where and how to POST. */
export interface SendTarget {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly basicAuth?: { readonly username: string; readonly password: string };
  readonly timeoutMs: number;
  /** Aborts the request when tallyd stops. */
  readonly signal?: AbortSignal;
}

/**
 * postWriteRequest POSTs one snappy-compressed WriteRequest with the headers remote write 1.0
 * requires. Network errors, timeouts, 5xx, 408 and 429 are retried (the receiver may be down or
 * busy); any other 4xx means it will never accept this body (malformed, out of bounds), which
 * is what Prometheus' own queue manager does too.
 */
export async function postWriteRequest(t: SendTarget, body: Uint8Array): Promise<SendOutcome> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-protobuf',
    'Content-Encoding': 'snappy',
    'X-Prometheus-Remote-Write-Version': '0.1.0',
    'User-Agent': 'tallyd',
    ...t.headers,
  };
  if (t.basicAuth) headers['Authorization'] = 'Basic ' + Buffer.from(`${t.basicAuth.username}:${t.basicAuth.password}`).toString('base64');
  let res: Response;
  try {
    res = await fetch(t.url, { method: 'POST', headers, body: body as Uint8Array<ArrayBuffer>, signal: t.signal ? AbortSignal.any([t.signal, AbortSignal.timeout(t.timeoutMs)]) : AbortSignal.timeout(t.timeoutMs) });
  } catch (err) {
    return { kind: 'retry', reason: String((err as Error).cause ?? err) };
  }
  const text = await res.text().catch(() => '');
  if (res.status >= 200 && res.status < 300) return { kind: 'ok' };
  const reason = `HTTP ${res.status}: ${text.slice(0, 300)}`;
  if (res.status >= 500 || res.status === 408 || res.status === 429) return { kind: 'retry', reason };
  return { kind: 'rejected', reason };
}
