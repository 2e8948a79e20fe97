import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';

/** TlsFiles names a PEM certificate (chain) and its private key. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** TlsPair is the PEM contents of TlsFiles. */
export interface TlsPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** readTls reads the certificate and key, naming the file that cannot be read. */
export function readTls(files: TlsFiles): TlsPair {
  const read = (path: string, key: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${key} ${path}: cannot read: ${(err as Error).message}`);
    }
  };
  return { cert: read(files.certFile, 'tls.cert_file'), key: read(files.keyFile, 'tls.key_file') };
}

type IdentityListener = (update: { certificate: Buffer; privateKey: Buffer } | null) => void;

/**
 * ReloadableGrpcCredentials are gRPC server credentials whose certificate can be replaced while
 * the server runs (new handshakes use the new certificate): a grpc-js certificate provider that
 * we push to on `reload`, instead of its file watcher's polling.
 */
export class ReloadableGrpcCredentials {
  readonly credentials: grpc.ServerCredentials;
  private latest: { certificate: Buffer; privateKey: Buffer };
  private readonly listeners = new Set<IdentityListener>();

  constructor(private readonly files: TlsFiles) {
    const p = readTls(files);
    this.latest = { certificate: p.cert, privateKey: p.key };
    const provider = {
      addCaCertificateListener: () => undefined,
      removeCaCertificateListener: () => undefined,
      addIdentityCertificateListener: (l: IdentityListener) => {
        this.listeners.add(l);
        // grpc-js registers its own watcher only after this returns: deliver on the next tick,
        // else the first certificate reaches nobody and every handshake is dropped.
        queueMicrotask(() => {
          if (this.listeners.has(l)) l(this.latest);
        });
      },
      removeIdentityCertificateListener: (l: IdentityListener) => {
        this.listeners.delete(l);
      },
    };
    // grpc-js names the first parameter caCertificateProvider but uses it as the identity provider.
    this.credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, null, false);
  }

  /** reload re-reads the files; on error the previous certificate stays in use and it throws. */
  reload(): void {
    const p = readTls(this.files);
    this.latest = { certificate: p.cert, privateKey: p.key };
    for (const l of this.listeners) l(this.latest);
  }
}
