import t from 'tap';
import Fastify from 'fastify';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadUiBundle, uiRoutes, uiSourceDir } from '../../../src/api/http/ui.js';

async function app(bundle = loadUiBundle()) {
  const a = Fastify();
  await a.register(uiRoutes, { bundle });
  return a;
}

t.test('GET / serves the page with asset URLs under the content id', async (t) => {
  const bundle = loadUiBundle();
  const a = await app(bundle);
  t.teardown(() => a.close());
  const r = await a.inject('/');
  t.equal(r.statusCode, 200);
  t.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  t.equal(r.headers['cache-control'], 'no-cache', 'the page is revalidated so a new release is picked up');
  t.match(String(r.headers['content-security-policy']), /default-src 'self'/);
  t.match(r.body, new RegExp(`src="/ui/${bundle.id}/js/main\\.js"`));
  t.notMatch(r.body, /\{\{ASSETS\}\}/, 'no template marker left');
  t.notMatch(r.body, /https?:\/\//, 'the page names no other host');
  const again = await a.inject({ url: '/', headers: { 'if-none-match': String(r.headers.etag) } });
  t.equal(again.statusCode, 304, 'ETag revalidation answers 304');
});

t.test('assets: content types, immutable caching, uPlot from the installed package', async (t) => {
  const bundle = loadUiBundle();
  const a = await app(bundle);
  t.teardown(() => a.close());
  const cases: Array<[string, string]> = [
    ['js/main.js', 'text/javascript; charset=utf-8'],
    ['app.css', 'text/css; charset=utf-8'],
    ['icon.svg', 'image/svg+xml'],
    ['vendor/uPlot.esm.js', 'text/javascript; charset=utf-8'],
    ['vendor/uPlot.min.css', 'text/css; charset=utf-8'],
  ];
  for (const [path, type] of cases) {
    const r = await a.inject(`/ui/${bundle.id}/${path}`);
    t.equal(r.statusCode, 200, path);
    t.equal(r.headers['content-type'], type, `${path} content type`);
    t.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable', `${path} cached for good under its id`);
    t.equal(r.headers['x-content-type-options'], 'nosniff');
  }
  const u = await a.inject(`/ui/${bundle.id}/vendor/uPlot.esm.js`);
  t.match(u.body, /export \{ uPlot as default \}|export default/, 'the ES module build of uPlot');
  const stale = await a.inject('/ui/000000000000/js/main.js');
  t.equal(stale.statusCode, 200, 'an old id still gets the asset');
  t.equal(stale.headers['cache-control'], 'no-cache', 'but not cached under the old id');
  const missing = await a.inject(`/ui/${bundle.id}/js/nope.js`);
  t.equal(missing.statusCode, 404);
  const escape = await a.inject(`/ui/${bundle.id}/../../package.json`);
  t.not(escape.statusCode, 200, 'no path outside the bundle');
});

t.test('every module the page imports is in the bundle, and no asset loads from another host', async (t) => {
  const bundle = loadUiBundle();
  for (const [path, a] of bundle.assets) {
    if (!path.endsWith('.js') || path.startsWith('vendor/')) continue;
    const text = a.body.toString('utf8');
    for (const m of text.matchAll(/^import\s[^;]*?from\s+['"]([^'"]+)['"]/gm)) {
      const target = new URL(m[1]!, `http://x/${path}`).pathname.slice(1);
      t.ok(bundle.assets.has(target), `${path} imports ${m[1]}, served as ${target}`);
    }
    t.notMatch(text, /https?:\/\/(?!x\/)/, `${path} names no remote URL`);
  }
  t.notMatch(bundle.assets.get('app.css')!.body.toString(), /@import|url\(\s*['"]?https?:/, 'no remote font or stylesheet');
});

t.test('the bundle id changes when any asset changes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-ui-'));
  mkdirSync(join(dir, 'js'));
  writeFileSync(join(dir, 'index.html'), '<script type="module" src="{{ASSETS}}js/a.js"></script>');
  writeFileSync(join(dir, 'js', 'a.js'), 'export const a = 1;\n');
  const one = loadUiBundle(dir);
  writeFileSync(join(dir, 'js', 'a.js'), 'export const a = 2;\n');
  const two = loadUiBundle(dir);
  t.not(one.id, two.id);
  t.equal(two.index.body.toString(), `<script type="module" src="/ui/${two.id}/js/a.js"></script>`);
  t.ok(uiSourceDir().endsWith('ui'), 'the shipped src/ui is found from dist/');
});
