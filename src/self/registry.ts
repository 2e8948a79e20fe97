import { Registry } from 'prom-client';

/**
 * selfRegistry holds tallyd's own metrics (prefix `tallyd_`), served on `/metrics` after the
 * ingested series. Each module declares its counters next to the code that counts, registered
 * here, labelled by protocol or reason; an unused counter costs nothing but its slot.
 */
export const selfRegistry = new Registry();
