import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** UiAsset is one file of the dashboard, held in memory (the whole UI is a few hundred KiB). */
interface UiAsset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/** UiBundle is the dashboard as served: the page, its assets by path, and the id in asset URLs. */
export interface UiBundle {
  readonly id: string;
  readonly index: UiAsset;
  readonly assets: ReadonlyMap<string, UiAsset>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

/**
 * The page may load only what tallyd serves: no CDN, no font host, no beacon. uPlot sets element
 * styles from script, which CSP allows without 'unsafe-inline'; the page has no inline script.
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

function asset(body: Buffer, path: string): UiAsset {
  return {
    body,
    type: TYPES[extname(path)] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 20)}"`,
  };
}

function walk(dir: string, out: string[] = []): string[] {
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * uiSourceDir finds src/ui in the installed package: this module runs from dist/src/api/http/, and
 * package.json "files" ships src/ui next to dist/.
 */
export function uiSourceDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../../../src/ui', '../../ui']) {
    const p = join(here, up);
    if (existsSync(join(p, 'index.html'))) return p;
  }
  throw new Error(`dashboard assets not found next to ${here} (expected src/ui/index.html in the package)`);
}

/**
 * loadUiBundle reads the dashboard files and uPlot's dist files (resolved from the installed
 * package, so no CDN is involved) once at start. The bundle id is a hash of every byte served,
 * so asset URLs change whenever any asset does and can be cached for good.
 */
export function loadUiBundle(dir: string = uiSourceDir()): UiBundle {
  const files = new Map<string, Buffer>();
  for (const p of walk(dir)) {
    const rel = relative(dir, p).split(sep).join('/');
    if (rel === 'index.html') continue;
    files.set(rel, readFileSync(p));
  }
  const uplotDist = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
  files.set('vendor/uPlot.esm.js', readFileSync(join(uplotDist, 'uPlot.esm.js')));
  files.set('vendor/uPlot.min.css', readFileSync(join(uplotDist, 'uPlot.min.css')));
  const template = readFileSync(join(dir, 'index.html'), 'utf8');
  const h = createHash('sha256').update(template);
  for (const [k, v] of files) h.update(k).update(v);
  const id = h.digest('hex').slice(0, 12);
  const assets = new Map<string, UiAsset>();
  for (const [k, v] of files) assets.set(k, asset(v, k));
  const index = asset(Buffer.from(template.replaceAll('{{ASSETS}}', `/ui/${id}/`)), 'index.html');
  return { id, index, assets };
}

function send(req: FastifyRequest, reply: FastifyReply, a: UiAsset, cache: string): FastifyReply {
  reply
    .header('content-type', a.type)
    .header('cache-control', cache)
    .header('etag', a.etag)
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', CSP)
    .header('referrer-policy', 'no-referrer');
  if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
  return reply.code(200).send(a.body);
}

/**
 * uiRoutes serves the dashboard (SPEC section 8): `GET /` is the page, revalidated on every load;
 * `/ui/<id>/...` are its assets, immutable under their content id. These routes declare
 * `config: { scope: 'public' }` (the auth hook's vocabulary): the page holds no tenant data and
 * must load before it can ask for a bearer token; every API call it makes goes through auth.
 */
export async function uiRoutes(app: FastifyInstance, opts: { bundle?: UiBundle } = {}): Promise<void> {
  const bundle = opts.bundle ?? loadUiBundle();
  const config = { scope: 'public' };
  app.get('/', { config }, async (req, reply) => send(req, reply, bundle.index, 'no-cache'));
  app.get('/ui/:id/*', { config }, async (req, reply) => {
    const { id, '*': path } = req.params as { id: string; '*': string };
    const a = bundle.assets.get(path);
    if (!a) return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('not found\n');
    // An asset asked for under an older id (a tab opened before an upgrade) gets today's bytes,
    // but must not be cached under the old name.
    return send(req, reply, a, id === bundle.id ? 'public, max-age=31536000, immutable' : 'no-cache');
  });
}
