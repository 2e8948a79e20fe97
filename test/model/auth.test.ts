import t from 'tap';
import * as crypto from 'node:crypto';
import { Authenticator, bearerToken, type TokenSpec } from '../../src/model/auth.js';

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const TOKENS: TokenSpec[] = [
  { token: 'plain-ingest', scopes: ['ingest'], tenant: 'a' },
  { tokenSha256: sha('hashed-query'), scopes: ['query'], tenant: 'b' },
  { tokenSha256: sha('root').toUpperCase(), scopes: ['admin'] },
];

t.test('tokens resolve to their tenant and scopes, plain or as token_sha256', async (t) => {
  const auth = new Authenticator(TOKENS);
  const ok = (h: string | undefined, scope: 'ingest' | 'query' | 'admin', org?: string) => {
    const r = auth.authenticate(h, scope, org);
    return r.ok ? r.principal.tenant : r.failure.kind;
  };
  t.equal(ok('Bearer plain-ingest', 'ingest'), 'a');
  t.equal(ok('bearer hashed-query', 'query'), 'b', 'scheme is case-insensitive; the sha256 form matches the token');
  t.equal(ok(`Bearer ${sha('hashed-query')}`, 'query'), 'unauthenticated', 'the digest itself is not a token');
  t.equal(ok('Bearer root', 'query'), 'default', 'admin (upper-case hex digest) includes query, in the default tenant');
  t.equal(ok(undefined, 'query'), 'unauthenticated', 'no header');
  t.equal(ok('Basic cm9vdA==', 'query'), 'unauthenticated', 'another scheme');
  t.equal(ok('Bearer plain-ingest2', 'ingest'), 'unauthenticated', 'a token with a valid prefix');
  t.equal(ok('Bearer plain-ingest', 'query'), 'forbidden', 'wrong scope');
  t.equal(ok('Bearer plain-ingest', 'ingest', 'b'), 'forbidden', 'a tenant token naming another tenant');
  t.equal(ok('Bearer plain-ingest', 'ingest', 'a'), 'a', 'naming its own tenant is fine');
  t.equal(ok('Bearer root', 'admin', 'b'), 'b', 'admin picks a tenant with X-Scope-OrgID');
  t.equal(ok('Bearer root', 'admin', '../etc'), 'forbidden', 'an invalid tenant name is refused');
  t.equal(new Authenticator([]).authenticate(undefined, 'admin').ok, true, 'no tokens: open');
});

t.test('bearerToken', async (t) => {
  t.equal(bearerToken('Bearer  abc '), 'abc');
  t.equal(bearerToken('Bearer a b'), null);
  t.equal(bearerToken('Bearer'), null);
  t.equal(bearerToken(undefined), null);
});

t.test('every configured token is compared, in constant time, whichever matches', async (t) => {
  let calls = 0;
  const { Authenticator: Counted } = await t.mockImport<typeof import('../../src/model/auth.js')>('../../src/model/auth.js', {
    'node:crypto': { ...crypto, timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => { calls++; return crypto.timingSafeEqual(a, b); } },
  });
  const auth = new Counted(TOKENS);
  for (const token of ['plain-ingest', 'hashed-query', 'root', 'nothing']) {
    calls = 0;
    auth.authenticate(`Bearer ${token}`, 'ingest');
    t.equal(calls, TOKENS.length, `${token}: compared with all ${TOKENS.length} tokens`);
  }
});
