import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** PostResult is the status of a delivered request (0 when no response came). */
export interface PostResult {
  readonly status: number;
  readonly error: string;
}

/**
 * postJson sends one JSON body and resolves with the status; it never rejects. Each request uses
 * its own connection (no keep-alive agent), so a receiver that restarts is reached afresh.
 */
export function postJson(url: string, headers: Readonly<Record<string, string>>, body: string, timeoutMs: number): Promise<PostResult> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ status: 0, error: `bad URL ${url}` });
      return;
    }
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'user-agent': 'tallyd', ...headers, 'content-length': Buffer.byteLength(body) },
        timeout: timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, error: '' }));
        res.on('error', (err) => resolve({ status: 0, error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)));
    req.on('error', (err) => resolve({ status: 0, error: err.message }));
    req.end(body);
  });
}
