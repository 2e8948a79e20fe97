import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

/** QUERY_PROTO is the service's proto file, relative to the package root. */
export const QUERY_PROTO = 'proto/tallyd/v1/query.proto';

/**
 * LOADER_OPTIONS make messages plain objects with the proto's snake_case field names and int64
 * fields as JS numbers (exact for millisecond timestamps), so handlers need no Long handling.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * findProtoRoot returns the folder holding `proto/`: the package root, found by walking up
 * from this module, so the same code works from any build folder and from an installed package.
 */
export function findProtoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, QUERY_PROTO))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`${QUERY_PROTO} not found above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** loadQueryPackage loads tallyd.v1 for serving (and for reflection, which needs the same definition). */
export function loadQueryPackage(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(join(findProtoRoot(), QUERY_PROTO), LOADER_OPTIONS);
}
