import type { Labels } from '../model/labels.js';
import type { MetricKind } from '../model/metric-kind.js';
import type { PipelineStoreOptions } from './options.js';

/**
 * The messages between the router (main thread) and an aggregation worker. Everything here is
 * structured-clone data; sample records travel as transferred ArrayBuffers, one message per batch.
 */

/** SeriesDef introduces a series to its worker, once, ahead of its first record. */
export interface SeriesDef {
  readonly slot: number;
  readonly tenant: string;
  readonly labels: Labels;
  readonly kind: MetricKind;
  readonly bounds: readonly number[] | null;
  readonly help: string;
  readonly unit: string;
}

/** WorkerConfig is the workerData of an aggregation worker. */
export interface WorkerConfig {
  readonly index: number;
  readonly storeModule: string;
  readonly store: PipelineStoreOptions;
  readonly seriesTtlMs: number;
  readonly restoreLookbackMs: number;
}

/** BatchMessage carries series definitions (applied first) and `n` records. */
export interface BatchMessage {
  readonly t: 'batch';
  readonly now: number;
  readonly defs: SeriesDef[];
  readonly buf: ArrayBuffer;
  readonly n: number;
  readonly side: ArrayBuffer | null;
}

/** FlushRequest closes windows ending at or before `now`, or every window when `all`. */
export interface FlushRequest { readonly t: 'flush'; readonly id: number; readonly now: number; readonly all: boolean }
/** ExposeRequest asks for the text exposition of a tenant's live series. */
export interface ExposeRequest { readonly t: 'expose'; readonly id: number; readonly now: number; readonly tenant: string }
/** CloseRequest closes the worker's store. */
export interface CloseRequest { readonly t: 'close'; readonly id: number }

/** ToWorker is every message a worker receives. */
export type ToWorker = BatchMessage | FlushRequest | ExposeRequest | CloseRequest;

/** FlushStats are what a worker reports with each flush ack (tallyd's own metrics). */
export interface FlushStats {
  readonly windows: number;
  readonly activeSeries: number;
  readonly totalSeries: number;
  readonly durationMs: number;
}

/** ExposedFamily is one metric family's text from one worker: [name, type, help, sample lines]. */
export type ExposedFamily = [name: string, type: string, help: string, text: string];

/** FromWorker is every message a worker sends. */
export type FromWorker =
  | { readonly t: 'ready'; readonly error: string | null }
  | { readonly t: 'returned'; readonly buf: ArrayBuffer; readonly side: ArrayBuffer | null }
  | { readonly t: 'flushed'; readonly id: number; readonly stats: FlushStats; readonly error: string | null }
  | { readonly t: 'exposed'; readonly id: number; readonly families: ExposedFamily[] }
  | { readonly t: 'closed'; readonly id: number; readonly error: string | null };
