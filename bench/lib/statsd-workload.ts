// The StatsD benchmark workload, shared by the in-memory parser benchmark and the UDP sender:
// packets of N lines over a fixed number of distinct series, plain or DogStatsD-tagged.

/** WorkloadOptions shape the generated packets. */
export interface WorkloadOptions {
  readonly tagged: boolean;
  /** Distinct series the lines cycle through. */
  readonly series: number;
  readonly linesPerPacket: number;
  /** Packets to generate; the benchmark cycles over them. */
  readonly packets: number;
}

const PLAIN_TYPES = ['c', 'g', 'ms', 'h'] as const;
const TAGGED_NAMES = [
  ['llm.provider.requests', 'c'],
  ['llm.provider.request', 'ms'],
  ['llm.tokens', 'h'],
  ['mcp.active_connections', 'g'],
] as const;

/** seriesLine renders one line of series `i` with a value that varies with `k`. */
export function seriesLine(i: number, k: number, tagged: boolean): string {
  if (!tagged) {
    const type = PLAIN_TYPES[i % 4]!;
    const value = type === 'c' ? String(1 + (k % 3)) : type === 'g' ? (k % 100) + '.5' : String(5 + (k % 400));
    return `app.svc${i % 100}.op${Math.floor(i / 100)}.${type === 'c' ? 'calls' : type === 'g' ? 'inflight' : type === 'ms' ? 'latency' : 'size'}:${value}|${type}`;
  }
  const [name, type] = TAGGED_NAMES[i % 4]!;
  const j = Math.floor(i / 4);
  const value = type === 'c' ? String(1 + (k % 3)) : type === 'g' ? String(k % 50) : String(5 + (k % 400));
  return `${name}:${value}|${type}|#model:model-${j % 10},agent_id:agent-${Math.floor(j / 10) % 50},tool_name:tool-${Math.floor(j / 500)},env:prod`;
}

/** buildPackets renders the workload; line n of the stream is series (n * 7919) mod series. */
export function buildPackets(o: WorkloadOptions): Buffer[] {
  const out: Buffer[] = [];
  let n = 0;
  for (let p = 0; p < o.packets; p++) {
    const lines: string[] = [];
    for (let j = 0; j < o.linesPerPacket; j++, n++) lines.push(seriesLine((n * 7919) % o.series, n, o.tagged));
    out.push(Buffer.from(lines.join('\n') + '\n'));
  }
  return out;
}
