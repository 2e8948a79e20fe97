import { ConfigError, loadConfig, parseArgs } from './config/load.js';
import { formatAddress } from './config/address.js';
import { Logger } from './self/log.js';
import { VERSION } from './version.js';
import { usage, unknownCommand } from './commands/help.js';

/**
 * main runs one tallyd command and resolves to the process exit code. `serve` resolves only
 * after the daemon stopped (on SIGTERM/SIGINT).
 */
export async function main(argv: string[]): Promise<number> {
  const sub = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'serve';
  const rest = sub === argv[0] ? argv.slice(1) : argv;
  // `--help`/`-h` anywhere wins over everything else, so a half-typed command line still gets help.
  if (rest.includes('--help') || rest.includes('-h')) {
    if (sub !== 'help' && !['serve', 'check-config', 'check-rules', 'version'].includes(sub)) {
      process.stderr.write(unknownCommand(sub));
      return 2;
    }
    process.stdout.write(usage(argv[0] === sub ? sub : undefined));
    return 0;
  }
  try {
    switch (sub) {
      case 'version':
        process.stdout.write(`tallyd ${VERSION} (node ${process.version})\n`);
        return 0;
      case 'help':
        process.stdout.write(usage(rest[0]));
        return 0;
      case 'check-config': {
        const cfg = loadConfig(parseArgs(rest));
        process.stdout.write(
          `config OK: data-dir ${cfg.dataDir}, http ${formatAddress(cfg.http)}, grpc ${formatAddress(cfg.grpc)}, ` +
            `otlp-grpc ${formatAddress(cfg.otlpGrpc)}, otlp-http ${formatAddress(cfg.otlpHttp)}, statsd ${formatAddress(cfg.statsd)}, ` +
            `flush-interval ${cfg.flushIntervalMs}ms, ${cfg.rules.length} rule file(s)${Object.keys(cfg.tenantRules).length > 0 ? ` (+ rules of ${Object.keys(cfg.tenantRules).length} tenant(s))` : ''}, ${cfg.notifiers.length} notifier(s), ${cfg.tiers.length} tier(s)\n`,
        );
        return 0;
      }
      case 'check-rules': {
        if (rest.length === 0) {
          process.stderr.write('check-rules: give one or more rule files\n');
          return 2;
        }
        const { checkRules } = await import('./commands/check-rules.js');
        return checkRules(rest);
      }
      case 'serve': {
        const cfg = loadConfig(parseArgs(rest));
        const log = new Logger(cfg.logLevel, { service: 'tallyd' });
        const { runDaemon } = await import('./main.js');
        return await runDaemon(cfg, log);
      }
      default:
        process.stderr.write(unknownCommand(sub));
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tallyd: configuration error: ${err.message}\n`);
      return 2;
    }
    if ((err as Error).name === 'FormatError') {
      // A data directory in another storage format: the message says what to do; no stack.
      process.stderr.write(`tallyd: ${(err as Error).message}\n`);
      return 1;
    }
    process.stderr.write(`tallyd: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
