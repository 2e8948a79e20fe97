import type { StoreOptions } from '../../store/interface.js';
import type { QueryErrorType } from '../promql/api.js';
import type { JobLimits } from './job.js';

/** WorkerConfig is a query worker's workerData. */
export interface WorkerConfig {
  readonly index: number;
  /** Module exporting `openStore(StoreOptions)`; tests may substitute one. */
  readonly storeModule: string;
  readonly store: StoreOptions;
  /** Modules each exporting `jobs`, a JobTable; later tables add kinds. */
  readonly jobModules: readonly string[];
  /**
   * cancel is shared with the main thread: slot 0 holds the id of the job the client abandoned.
   * The worker polls it at every checkpoint, since a busy worker cannot receive messages.
   */
  readonly cancel: SharedArrayBuffer;
  /** Nice value for the worker thread (Linux); 0 keeps the process's. */
  readonly nice: number;
}

/** ToWorker is what the pool sends a worker. */
export type ToWorker =
  | {
      readonly t: 'job';
      readonly id: number;
      readonly kind: string;
      readonly params: unknown;
      readonly deadlineMs: number;
      readonly limits: JobLimits;
    }
  | { readonly t: 'close' };

/** WireError is a failure as it crosses threads. */
export interface WireError {
  readonly type: QueryErrorType;
  readonly message: string;
}

/** FromWorker is what a worker answers. */
export type FromWorker =
  | { readonly t: 'ready'; readonly error: string | null }
  | { readonly t: 'closed' }
  | { readonly t: 'done'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'done'; readonly id: number; readonly ok: false; readonly error: WireError };
