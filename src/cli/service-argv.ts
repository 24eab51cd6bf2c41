// The original service_framework's flag spellings (-cl, --config_path, ...), rewritten before
// commander parses the command line: apart from commands/service.ts so that main.ts can call
// it without loading the service model.

/** The original's flags that are not single-letter: rewritten before commander sees them. */
const FLAG_SPELLINGS: Readonly<Record<string, string>> = {
  '-cl': '--console-loglevel',
  '-bc': '--backup-count',
  '--addresses_path': '--addresses-path',
  '--config_path': '--config-path',
  '--service_path': '--service-path',
  '--main_mode': '--main-mode',
  '--console_loglevel': '--console-loglevel',
  '--file_loglevel': '--file-loglevel',
  '--backup_count': '--backup-count',
  '--log_folder': '--log-folder',
};

/** Rewrites the original's spellings (-cl, --config_path, ...) in the arguments of `switchyard service`. */
export function normalizeServiceArgv(argv: readonly string[]): string[] {
  const at = argv.indexOf('service');
  if (at < 0 || at > 2) return [...argv];
  return [...argv.slice(0, at + 1), ...argv.slice(at + 1).map((a) => FLAG_SPELLINGS[a] ?? a)];
}

