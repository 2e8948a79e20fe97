import { readdirSync, statSync } from 'node:fs';
import { join, isAbsolute, sep } from 'node:path';

/**
 * expandGlob resolves a `--rules` pattern the way Prometheus' filepath.Glob does: `*`, `?` and
 * `[...]` within one path segment, no `**`. A pattern without metacharacters is returned as is
 * (so a missing file is reported by the reader); a pattern that matches nothing gives nothing.
 * Matches are sorted, so rule groups load in a stable order.
 */
export function expandGlob(pattern: string): string[] {
  if (!hasMeta(pattern)) return [pattern];
  const parts = pattern.split(/[\\/]+/);
  let bases: string[] = [isAbsolute(pattern) ? sep : '.'];
  const start = isAbsolute(pattern) ? 1 : 0;
  for (let i = start; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '' || part === '.') continue;
    const next: string[] = [];
    for (const base of bases) {
      if (!hasMeta(part)) {
        next.push(join(base, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      const re = segmentRegExp(part);
      for (const n of names.sort()) if (re.test(n) && !(n.startsWith('.') && !part.startsWith('.'))) next.push(join(base, n));
    }
    bases = next;
  }
  return bases.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

function hasMeta(s: string): boolean {
  return /[*?[]/.test(s);
}

function segmentRegExp(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const j = seg.indexOf(']', i + 1);
      if (j < 0) re += '\\[';
      else {
        let cls = seg.slice(i + 1, j);
        if (cls.startsWith('^') || cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += '[' + cls.replace(/\\/g, '\\\\') + ']';
        i = j;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}
