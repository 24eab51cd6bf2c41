// `switchyard service`: the service_framework model's own command line (-s -a -c -m -cl and
// extra --key value pairs merged into the config). Its flags feed the "service" settings
// section (commands/service.ts); defaults are the section's, so SWITCHYARD_SERVICE_* works for
// every flag not given.

import { basename, extname } from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../transports/zeromq/defaults.js';

export function addServiceCommand(program: Command): void {
  program.command('service')
    .description('run one service of connections and states (the service_framework model) over ZeroMQ')
    .requiredOption('-s, --service-path <file>', 'the service module (TypeScript or JavaScript) exporting service({...})')
    .option('-a, --addresses-path <file>', 'addresses.json: {connections: {in, out}, states: {in, out}}, or the flat {in, out} of 0.0.19+')
    .option('-c, --config-path <file>', 'config.json, loaded as is; extra --key value pairs are merged into it')
    .option('-m, --main-mode', 'run main(toSend, config) (a leading-edge service) and stop when it returns; env SWITCHYARD_SERVICE_MAIN_MODE')
    .option('--console-loglevel <level>', 'console log level, also -cl (default INFO); env SWITCHYARD_SERVICE_CONSOLE_LOGLEVEL')
    .option('-l, --log-folder <dir>', 'also write the log to DIR/<service>.log; env SWITCHYARD_SERVICE_LOG_FOLDER')
    .option('--file-loglevel <level>', 'level of the file log, also -f (default INFO); env SWITCHYARD_SERVICE_FILE_LOGLEVEL')
    .option('-f <level>', 'same as --file-loglevel')
    .option('--backup-count <n>', 'accepted for compatibility, also -bc: the file is not rotated')
    .addOption(new Option('--transport <name>', 'socket transport: zeromq (default), or memory (in-process only); env SWITCHYARD_SERVICE_TRANSPORT').choices(['zeromq', 'memory']))
    .option('--max-message-size <bytes>', `zeromq: the largest frame a socket accepts; a peer sending a larger one is disconnected unread (-1: no limit, as the original; default ${DEFAULT_MAX_MESSAGE_SIZE}); env SWITCHYARD_SERVICE_MAX_MESSAGE_SIZE`)
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', `
Every other --key value pair is added to the config (values are strings), as the original does.
Settings, strongest first: these flags, SWITCHYARD_SERVICE_* variables, the addresses and config files.

Examples:
  switchyard service -s replyer.ts -a addresses.json -c config.json
  switchyard service -s leading.ts -a addresses.json -m -cl DEBUG --symbol BTC-USD`)
    .action(async (flags: Record<string, unknown>, command: Command) => {
      // Loaded when the command runs, so that --help loads no service model or logger.
      const [{ resolveServiceSettings, serviceCommand }, { createServiceLog }] = await Promise.all([import('./commands/service.js'), import('./service-log.js')]);
      const servicePath = String(flags.servicePath);
      const settings = resolveServiceSettings({ flags, extra: command.args, env: process.env });
      const log = createServiceLog({
        consoleLevel: settings.consoleLoglevel,
        fileLevel: settings.fileLoglevel,
        service: basename(servicePath, extname(servicePath)),
        ...(settings.logFolder !== undefined ? { folder: settings.logFolder } : {}),
      });
      const logger = log.logger;
      if (settings.backupCount !== undefined) logger.warn('-bc/--backup-count is accepted but the log file is not rotated');
      process.exitCode = await serviceCommand({ servicePath, settings, logger }).finally(() => log.close());
    });
}
