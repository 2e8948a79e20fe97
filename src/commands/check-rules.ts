import { checkRuleFiles, formatProblem } from '../rules/index.js';
import { createEngine } from '../query/promql/engine.js';

/**
 * checkRules is `tallyd check-rules FILE...`: validates rule files without running them, prints
 * each problem as `file:line: reason` and returns the exit code (1 when any file is invalid).
 */
export function checkRules(patterns: readonly string[]): number {
  const engine = createEngine();
  const result = checkRuleFiles([...patterns], (expr: string) => engine.parseCheck(expr));
  for (const w of result.warnings) process.stderr.write(`warning: ${formatProblem(w)}\n`);
  for (const e of result.errors) process.stderr.write(`${formatProblem(e)}\n`);
  if (result.errors.length) {
    process.stderr.write(`check-rules: ${result.errors.length} error(s)\n`);
    return 1;
  }
  process.stdout.write(`SUCCESS: ${result.groups.length} group(s) in ${result.files.length} file(s) found\n`);
  return 0;
}
