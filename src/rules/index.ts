/** The rules module's public surface: what main.ts, the CLI and the APIs use. */
export { RuleManager, type RuleManagerOptions, type ReloadResult } from './manager.js';
export { checkRuleFiles, type RuleFilesCheck } from './check.js';
export { formatProblem, parseRuleFile, type GroupDef, type RuleDef, type ParseCheck, type RuleFileProblem } from './rule-file.js';
export type { RuleWriter } from './group.js';
export type { AlertEvent } from './alert.js';
export type { NotifierSpec, NotifyOptions } from './notify.js';
export { systemClock, type Clock } from './clock.js';
export type { RulesLog } from './log.js';
export { expandRuleTemplate, parseRuleTemplate, type TemplateData } from './template-funcs.js';
