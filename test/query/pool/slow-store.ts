// A store module for pool tests whose openStore takes 1.5 s before opening the real LMDB store:
// a worker start-up slower than a short query deadline, on any machine.
import type { Store, StoreOptions } from '../../../src/store/interface.js';
import { openStore as realOpen } from '../../../src/store/open.js';

export const OPEN_DELAY_MS = 1_500;

export async function openStore(o: StoreOptions): Promise<Store> {
  await new Promise((r) => setTimeout(r, OPEN_DELAY_MS));
  return realOpen(o);
}
