import { readFileSync } from 'node:fs';
import { expandGlob } from './glob.js';
import { parseRuleFile, type GroupDef, type ParseCheck, type RuleFileProblem } from './rule-file.js';

/** RuleFilesCheck is the outcome of reading a set of rule files. */
export interface RuleFilesCheck {
  /** Every file the patterns named, after glob expansion. */
  readonly files: string[];
  /** The groups of all files, in file order; empty when there are errors. */
  readonly groups: GroupDef[];
  readonly errors: RuleFileProblem[];
  readonly warnings: RuleFileProblem[];
}

/**
 * checkRuleFiles reads and validates rule files without running them: patterns may be globs.
 * It is pure apart from reading the files, so `tallyd check-rules` and reloads share it. Each
 * error names file, line (0 when the file cannot be read) and reason.
 */
export function checkRuleFiles(patterns: readonly string[], parseCheck: ParseCheck): RuleFilesCheck {
  const files: string[] = [];
  for (const p of patterns) for (const f of expandGlob(p)) if (!files.includes(f)) files.push(f);
  const groups: GroupDef[] = [];
  const errors: RuleFileProblem[] = [];
  const warnings: RuleFileProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      errors.push({ file, line: 0, reason: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    const r = parseRuleFile(file, text, parseCheck);
    groups.push(...r.groups);
    errors.push(...r.errors);
    warnings.push(...r.warnings);
  }
  return { files, groups: errors.length === 0 ? groups : [], errors, warnings };
}
