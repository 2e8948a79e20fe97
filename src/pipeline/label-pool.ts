import type { Label, Labels } from '../model/labels.js';

/** A label name's distinct values, each as the one shared Label object. */
interface NamePairs {
  readonly name: string;
  readonly values: Map<string, Label>;
}

/**
 * LabelPool interns label pairs on a worker. Series definitions arrive as structured clones,
 * with fresh copies of every name and value, although a metric's thousands of series share
 * their label names and most values; the pool keeps each distinct pair once and every series
 * that has it points at that one Label (Labels are immutable).
 *
 * Memory stays bounded: past `maxPairs` distinct pairs the pool starts over. Series built
 * before keep their (still shared) pairs; only sharing with later series is lost.
 */
export class LabelPool {
  private readonly names = new Map<string, NamePairs>();
  private pairs = 0;

  constructor(private readonly maxPairs = 1 << 18) {}

  /** intern returns `labels` with every pair replaced by its shared copy. */
  intern(labels: Labels): Labels {
    // map() allocates exactly `length` slots; pushing onto [] would reserve 17.
    return labels.map((l) => this.pair(l));
  }

  /** pair returns the shared copy of one label, keeping it on first sight. */
  private pair(l: Label): Label {
    let np = this.names.get(l.name);
    const have = np?.values.get(l.value);
    if (have !== undefined) return have;
    if (this.pairs >= this.maxPairs) {
      this.names.clear();
      this.pairs = 0;
      np = undefined;
    }
    if (np === undefined) {
      np = { name: l.name, values: new Map() };
      this.names.set(l.name, np);
    }
    const pair = { name: np.name, value: l.value };
    np.values.set(l.value, pair);
    this.pairs++;
    return pair;
  }

  /** size is the number of distinct pairs held. */
  get size(): number {
    return this.pairs;
  }
}
