import { defineJobs, type JobContext } from '../../../src/query/pool/job.js';

/**
 * Jobs the pool tests load into their workers (through `jobModules`): a loop that honours
 * checkpoints, one that ignores them (a stuck worker), and a crash.
 */
export const jobs = defineJobs({
  'test.spin'(ctx: JobContext, p: { readonly ms: number }): number {
    const until = Date.now() + p.ms;
    let n = 0;
    while (Date.now() < until) {
      n++;
      if ((n & 1023) === 0) ctx.checkpoint();
    }
    return n;
  },
  'test.stuck'(_ctx: JobContext, p: { readonly ms: number }): string {
    const until = Date.now() + p.ms;
    while (Date.now() < until);
    return 'finished';
  },
  'test.crash'(): never {
    // process.exit in a worker ends that thread only, as a fatal error in native code would.
    process.exit(3);
  },
  'test.tenant'(ctx: JobContext, p: { readonly tenant: string }): string[] {
    return ctx.querier.labelNames(p.tenant, [], -Infinity, Infinity);
  },
});
