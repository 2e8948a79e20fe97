import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** LingerOptions bound how much of a refused body is read and discarded after the answer. */
export interface LingerOptions {
  /** Longest time to keep reading (default 5 s). */
  readonly maxMs?: number;
  /** Most bytes to read and discard (default 64 MiB). */
  readonly maxBytes?: number;
}

const CHECK_EVERY_MS = 50;

/**
 * installLingeringClose makes an early answer (413, or 401/403 before the body was read) reach
 * the client, as nginx's lingering close does. Closing a socket whose receive buffer still holds
 * unread body bytes makes the kernel send a reset, and a client still writing its body (Node's
 * http client, the OpenTelemetry exporters) sees EPIPE or ECONNRESET instead of the answer, then
 * retries the same request forever. So the answer is sent without `Connection: close`, the rest
 * of the body is read and discarded (Node drains a request nobody consumes), and the socket is
 * destroyed only when the drain exceeds `maxBytes` or `maxMs`.
 */
export function installLingeringClose(app: FastifyInstance, opts: LingerOptions = {}): void {
  const maxMs = opts.maxMs ?? 5_000;
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (reply.statusCode < 400 || req.raw.complete) return payload;
    reply.removeHeader('connection');
    linger(req, maxMs, maxBytes);
    return payload;
  });
}

function linger(req: FastifyRequest, maxMs: number, maxBytes: number): void {
  const raw = req.raw;
  const socket = raw.socket;
  if (!socket || socket.destroyed) return;
  const startBytes = socket.bytesRead;
  const startMs = Date.now();
  // Flowing with no 'data' listener discards what arrives; Node does the same after the answer.
  raw.resume();
  const timer = setInterval(() => {
    if (raw.complete || socket.destroyed) {
      clearInterval(timer);
      return;
    }
    if (socket.bytesRead - startBytes > maxBytes || Date.now() - startMs > maxMs) {
      clearInterval(timer);
      socket.destroy();
    }
  }, CHECK_EVERY_MS);
  timer.unref();
}
