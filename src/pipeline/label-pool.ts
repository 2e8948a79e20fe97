import type { Label } from '../model/labels.js';

/** A label name (the one shared string) and its distinct values' pair numbers. */
interface NamePairs {
  readonly name: string;
  readonly values: Map<string, number>;
}

/**
 * LabelPool interns label pairs on a worker and numbers them. Series definitions arrive as
 * structured clones, with fresh copies of every name and value, although a metric's thousands of
 * series share their label names and most values; the pool keeps each distinct pair once, as one
 * Label (Labels are immutable), and a series keeps only the pairs' numbers (see SeriesTable), so
 * its label set costs a few int32s instead of an array of references.
 *
 * Memory stays bounded as before: past `maxPairs` distinct pairs the lookup starts over. Pairs
 * numbered before stay (series still use them); only sharing with later series is lost.
 */
export class LabelPool {
  private readonly names = new Map<string, NamePairs>();
  /** Pairs by number. */
  private readonly pairs: Label[] = [];
  private inLookup = 0;

  constructor(private readonly maxPairs = 1 << 18) {}

  /** id returns the number of a label's shared pair, keeping the pair on first sight. */
  id(l: Label): number {
    let np = this.names.get(l.name);
    const have = np?.values.get(l.value);
    if (have !== undefined) return have;
    if (this.inLookup >= this.maxPairs) {
      this.names.clear();
      this.inLookup = 0;
      np = undefined;
    }
    if (np === undefined) {
      np = { name: l.name, values: new Map() };
      this.names.set(l.name, np);
    }
    const id = this.pairs.length;
    this.pairs.push({ name: np.name, value: l.value });
    np.values.set(l.value, id);
    this.inLookup++;
    return id;
  }

  /** pair is the shared pair numbered `id`. */
  pair(id: number): Label {
    return this.pairs[id]!;
  }

  /** size is the number of distinct pairs in the lookup. */
  get size(): number {
    return this.inLookup;
  }
}
