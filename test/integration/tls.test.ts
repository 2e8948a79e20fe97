import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startDaemon } from './daemon.js';

const PROTO = new URL('../../../proto/tallyd/v1/query.proto', import.meta.url).pathname;
const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, longs: Number, defaults: true })) as unknown as {
  tallyd: { v1: { QueryService: grpc.ServiceClientConstructor } };
};

/** selfSigned writes a fresh self-signed certificate for localhost / 127.0.0.1 with openssl. */
function selfSigned(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`), key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

function get(port: number, path: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** peerCN is the common name of the certificate a TLS listener presents now. */
function peerCN(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost', ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      s.end();
      resolve(String(cn));
    });
    s.on('error', reject);
  });
}

t.test('TLS on the HTTP, gRPC and OTLP listeners, certificates reloaded on SIGHUP', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tallyd-tls-'));
  const first = selfSigned(dir, 'first');
  const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
  writeFileSync(live.cert, readFileSync(first.cert));
  writeFileSync(live.key, readFileSync(first.key));
  writeFileSync(join(dir, 'tallyd.yml'), `tls:\n  cert_file: ${live.cert}\n  key_file: ${live.key}\n`);
  // The helper polls http://.../health/ready; with TLS on, give it a plain port it cannot use and poll HTTPS ourselves.
  const d = await startDaemon({ args: ['--config', join(dir, 'tallyd.yml')], readyUrl: 'https' });
  t.teardown(() => d.stop());
  const ca1 = readFileSync(first.cert);

  const health = await get(d.ports.http, '/health/live', ca1);
  t.equal(health.status, 200, 'HTTPS answers with the configured certificate');
  const otlp = await new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: d.ports.otlpHttp, path: '/v1/metrics', method: 'POST', ca: ca1, servername: 'localhost', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end('{"resourceMetrics":[]}');
  });
  t.equal(otlp, 200, 'OTLP/HTTP over TLS');
  const client = new pkg.tallyd.v1.QueryService(`localhost:${d.ports.grpc}`, grpc.credentials.createSsl(ca1)) as unknown as grpc.Client & Record<string, (...a: unknown[]) => unknown>;
  const res = await new Promise<{ result_type: string }>((resolve, reject) => client['Query']!({ expr: 'vector(1)' }, (err: Error | null, r: { result_type: string }) => (err ? reject(err) : resolve(r))));
  client.close();
  t.equal(res.result_type, 'vector', 'gRPC query API over TLS');
  for (const [name, port] of [['http', d.ports.http], ['grpc', d.ports.grpc], ['otlp-http', d.ports.otlpHttp], ['otlp-grpc', d.ports.otlpGrpc]] as const) {
    t.equal(await peerCN(port), 'first', `${name} presents the first certificate`);
  }

  const second = selfSigned(dir, 'second');
  writeFileSync(live.cert, readFileSync(second.cert));
  writeFileSync(live.key, readFileSync(second.key));
  d.proc.kill('SIGHUP');
  await new Promise((r) => setTimeout(r, 500));
  for (const [name, port] of [['http', d.ports.http], ['grpc', d.ports.grpc], ['otlp-http', d.ports.otlpHttp], ['otlp-grpc', d.ports.otlpGrpc]] as const) {
    t.equal(await peerCN(port), 'second', `${name} presents the new certificate after SIGHUP`);
  }
  t.equal((await get(d.ports.http, '/health/live', readFileSync(second.cert))).status, 200, 'and it verifies');
});
