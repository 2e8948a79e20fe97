import { BlockList, isIP } from 'node:net';

/** SourceFilter says whether a packet's source address may write. */
export type SourceFilter = (address: string) => boolean;

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * compileAllow turns `statsd.allow` CIDRs (`10.0.0.0/8`, `::1/128`, or a bare address) into a
 * filter. IPv4 clients reaching an IPv6 socket (`::ffff:a.b.c.d`) are matched as IPv4. Decisions
 * are memoised per address (bounded), since a StatsD source sends many packets.
 * It throws on a malformed entry, naming it.
 */
export function compileAllow(cidrs: readonly string[]): SourceFilter {
  const list = new BlockList();
  for (const text of cidrs) {
    const slash = text.indexOf('/');
    const addr = slash < 0 ? text : text.slice(0, slash);
    const family = isIP(addr);
    const bits = slash < 0 ? (family === 6 ? 128 : 32) : Number(text.slice(slash + 1));
    const max = family === 6 ? 128 : 32;
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > max || (slash >= 0 && !/^\d+$/.test(text.slice(slash + 1)))) {
      throw new Error(`statsd.allow: bad CIDR ${JSON.stringify(text)}; expected an address or address/prefix like 127.0.0.0/8 or ::1/128`);
    }
    list.addSubnet(addr, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  const memo = new Map<string, boolean>();
  return (address: string): boolean => {
    const known = memo.get(address);
    if (known !== undefined) return known;
    const m = MAPPED_V4.exec(address);
    const family = isIP(address);
    const ok = m ? list.check(m[1]!, 'ipv4') || list.check(address, 'ipv6') : family === 0 ? false : list.check(address, family === 6 ? 'ipv6' : 'ipv4');
    if (memo.size >= 4096) memo.clear();
    memo.set(address, ok);
    return ok;
  };
}
