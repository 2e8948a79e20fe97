import { SparseHistogram } from '../model/hdr.js';
import { MetricKind } from '../model/metric-kind.js';
import { ByteReader, ByteWriter } from './byte-io.js';
import type { StoreDbs } from './dbs.js';
import { addHistogram } from './hist-add.js';
import { decodeHistogram, encodeHistogram } from './histogram-codec.js';
import type { PointBuf } from './point-buf.js';
import { retiredKey } from './series-reader.js';

const writer = new ByteWriter(256);

/**
 * addRetired adds windows [from, to) of `pts` to series `id`'s retired aggregate in one tier:
 * the counter increments or histograms that tier no longer holds as windows (deleted by
 * retention, or backfilled straight into a coarser tier), so cumulative reads from that tier
 * still count them. Gauges have no aggregate. MUST run inside a write transaction.
 */
export function addRetired(dbs: StoreDbs, tier: number, id: number, pts: PointBuf, from = 0, to = pts.n): void {
  if (pts.kind === MetricKind.Gauge || to <= from) return;
  const k = retiredKey(tier, id);
  const old = dbs.retired.getBinary(k);
  if (pts.kind === MetricKind.Counter) {
    let sum = old !== undefined ? new ByteReader(old).f64() : 0;
    for (let i = from; i < to; i++) sum += pts.a[i]!;
    writer.reset();
    writer.f64(sum);
  } else {
    const h = old !== undefined ? decodeHistogram(new ByteReader(old), null) : new SparseHistogram(16);
    for (let i = from; i < to; i++) addHistogram(h, pts.hists[i]!);
    writer.reset();
    encodeHistogram(writer, h, null);
  }
  void dbs.retired.put(k, Buffer.from(writer.finish()));
}
