import { OPTIONS, envName, yamlKey, type OptionSpec } from '../config/schema.js';
import { nearest } from '../config/suggest.js';

/** SUBCOMMANDS are tallyd's commands; `serve` is what a bare `tallyd` runs. */
export const SUBCOMMANDS = ['serve', 'check-config', 'check-rules', 'version', 'help'] as const;

const KIND_VALUE: Record<OptionSpec['kind'], string> = { string: 'VALUE', address: 'ADDR', duration: 'DUR', list: 'FILE', level: 'LEVEL' };

/** flagTable lists every option with its argument, default, meaning, environment variable and YAML key. */
function flagTable(): string {
  return OPTIONS.map((o) => {
    const head = `  --${o.flag} ${o.value ?? KIND_VALUE[o.kind]}`;
    const def = o.defaultText ?? o.noDefault ?? 'none';
    return `${head.padEnd(28)} ${o.help}\n${' '.repeat(29)}default ${def}; env ${envName(o.flag)}; YAML key ${yamlKey(o.flag)}`;
  }).join('\n');
}

const HELP_LINE = `${'  --help'.padEnd(28)} print this help and exit`;

const PRECEDENCE = 'Each flag is also an environment variable and a YAML key of --config; precedence: flag > env > file > default.\n' +
  'An address with port 0 disables that listener. Durations use Prometheus syntax (500ms, 10s, 5m, 90d).';

/** usage is the text of `tallyd --help` (no subcommand) or `tallyd <sub> --help`. */
export function usage(sub?: string): string {
  switch (sub) {
    case 'serve':
      return `usage: tallyd [serve] [flags]\n\nRuns the daemon until SIGTERM or SIGINT (SIGHUP reloads rule files).\n\nflags:\n${flagTable()}\n${HELP_LINE}\n\n${PRECEDENCE}\n`;
    case 'check-config':
      return `usage: tallyd check-config [--config FILE] [flags]\n\nValidates the configuration that \`tallyd serve\` with the same flags, environment and file would use,\nprints a summary and exits 0, or names the bad key or flag and exits 2. Binds no port.\n\nflags:\n${flagTable()}\n${HELP_LINE}\n\n${PRECEDENCE}\n`;
    case 'check-rules':
      return `usage: tallyd check-rules FILE...\n\nValidates Prometheus rule files (globs allowed) without running them; prints each problem as\nfile:line: reason and exits 1 when any file is invalid, 0 otherwise.\n\nflags:\n${HELP_LINE}\n`;
    case 'version':
      return `usage: tallyd version\n\nPrints the tallyd version and the Node.js version.\n\nflags:\n${HELP_LINE}\n`;
    default:
      return `usage: tallyd [serve] [flags]        run the daemon (the default command)
       tallyd check-config [flags]   validate the configuration and exit
       tallyd check-rules FILE...    validate rule files and exit
       tallyd version                print the version
       tallyd <command> --help       help for one command

flags:
${flagTable()}
${HELP_LINE}

${PRECEDENCE}
`;
  }
}

/** unknownCommand is the error text for a subcommand tallyd does not have, with the nearest one. */
export function unknownCommand(sub: string): string {
  const near = nearest(sub, SUBCOMMANDS);
  return `tallyd: unknown command ${JSON.stringify(sub)}${near ? `; did you mean ${near}?` : ''} (see tallyd --help)\n`;
}
