import { ByteKeyCache } from '../../wire/byte-key-cache.js';
import { forEachAttributeField } from './attributes.js';
import { resourceLabels, type ResourceLabels } from './translate.js';

/** ResourceInfo is an interned Resource: a small id for series keys plus its labels. */
export interface ResourceInfo {
  readonly id: number;
  readonly labels: ResourceLabels;
  readonly attrs: ReadonlyMap<string, string>;
}

const NO_RESOURCE = new Uint8Array(0);

/**
 * ResourceCache interns Resource messages by their bytes per tenant, so the labels a resource
 * contributes (job, instance, promoted attributes) are derived once, not per request.
 */
export class ResourceCache {
  private readonly cache: ByteKeyCache<ResourceInfo>;
  private readonly promote: ReadonlySet<string>;
  private nextId = 1;

  constructor(promote: Iterable<string>, maxEntries = 10_000) {
    this.cache = new ByteKeyCache(maxEntries);
    this.promote = new Set(promote);
  }

  /** intern returns the resource of the Resource message in [start, end) for a tenant id. */
  intern(buf: Uint8Array, start: number, end: number, tenantId: number): ResourceInfo {
    if (start === end) buf = NO_RESOURCE;
    const hit = this.cache.get(buf, start, end, tenantId, 0);
    if (hit !== undefined) return hit;
    const attrs = new Map<string, string>();
    forEachAttributeField(buf, start, end, 1, (k, v) => attrs.set(k, v));
    const info: ResourceInfo = { id: this.nextId++, labels: resourceLabels(attrs, this.promote), attrs };
    // Ids only grow; wrap long before they stop being small integers.
    if (this.nextId > 0x3fffffff) this.nextId = 1;
    this.cache.set(buf, start, end, tenantId, 0, info);
    return info;
  }
}
