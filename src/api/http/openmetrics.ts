/** OPENMETRICS_TYPE is the content type of OpenMetrics 1.0 text exposition. */
export const OPENMETRICS_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * toOpenMetrics rewrites Prometheus text exposition (0.0.4) as OpenMetrics 1.0: counter
 * families are named without their `_total` suffix in HELP/TYPE lines, `untyped` becomes
 * `unknown`, and the body ends with `# EOF`. Sample lines are already valid OpenMetrics.
 */
export function toOpenMetrics(text: string): string {
  const out: string[] = [];
  const lines = text.split('\n');
  const counters = new Set<string>();
  for (const line of lines) {
    const m = /^# TYPE (\S+) counter$/.exec(line);
    if (m && m[1]!.endsWith('_total')) counters.add(m[1]!);
  }
  for (const line of lines) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+)(.*)$/.exec(line);
    if (meta) {
      let name = meta[2]!;
      if (counters.has(name)) name = name.slice(0, -'_total'.length);
      let rest = meta[3]!;
      if (meta[1] === 'TYPE' && rest === ' untyped') rest = ' unknown';
      out.push(`# ${meta[1]} ${name}${rest}`);
    } else {
      out.push(line);
    }
  }
  out.push('# EOF');
  return out.join('\n') + '\n';
}
