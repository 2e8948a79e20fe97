import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Params reads Prometheus API parameters from the query string and, for POST, from a
 * form-encoded body, as Prometheus does (both may be combined; repeated keys are kept in order).
 */
export class Params {
  private readonly map = new Map<string, string[]>();

  constructor(req: FastifyRequest) {
    this.addAll(req.query);
    if (req.body instanceof URLSearchParams) {
      for (const [k, v] of req.body) this.add(k, v);
    } else if (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) {
      this.addAll(req.body);
    }
  }

  private addAll(src: unknown): void {
    if (!src || typeof src !== 'object') return;
    for (const [k, v] of Object.entries(src as Record<string, unknown>)) {
      if (Array.isArray(v)) for (const x of v) this.add(k, String(x));
      else if (v !== undefined) this.add(k, String(v));
    }
  }

  private add(k: string, v: string): void {
    const list = this.map.get(k);
    if (list) list.push(v);
    else this.map.set(k, [v]);
  }

  /** get returns the last value of a parameter, or '' when absent. */
  get(name: string): string {
    return this.map.get(name)?.at(-1) ?? '';
  }

  /** all returns every value of a repeated parameter (`match[]`). */
  all(name: string): string[] {
    return this.map.get(name) ?? [];
  }

  has(name: string): boolean {
    return this.map.has(name);
  }
}

/** registerFormParser makes fastify accept application/x-www-form-urlencoded bodies as URLSearchParams. */
export function registerFormParser(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, new URLSearchParams(body as string));
  });
}
