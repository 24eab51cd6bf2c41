// `switchyard service`: the service_framework model's own command line (-s -a -c -m -cl and
// extra --key value pairs merged into the config), kept apart from the other commands.

import { basename, extname } from 'node:path';
import { Command, Option } from 'commander';
import { errors } from '../errors.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../transports/zeromq/defaults.js';
import { serviceCommand } from './commands/service.js';
import { createServiceLog } from './service-log.js';

export function addServiceCommand(program: Command): void {
  program.command('service')
    .description('run one service of connections and states (the service_framework model) over ZeroMQ')
    .requiredOption('-s, --service-path <file>', 'the service module (TypeScript or JavaScript) exporting service({...})')
    .option('-a, --addresses-path <file>', 'addresses.json: {connections: {in, out}, states: {in, out}}')
    .option('-c, --config-path <file>', 'config.json, loaded as is; extra --key value pairs are merged into it')
    .option('-m, --main-mode', 'run main(toSend, config) (a leading-edge service) and stop when it returns')
    .option('--console-loglevel <level>', 'console log level, also -cl', 'INFO')
    .option('-l, --log-folder <dir>', 'also write the log to DIR/<service>.log')
    .option('--file-loglevel <level>', 'level of the file log, also -f (default INFO)')
    .option('-f <level>', 'same as --file-loglevel')
    .option('--backup-count <n>', 'accepted for compatibility, also -bc: the file is not rotated')
    .addOption(new Option('--transport <name>', 'socket transport: zeromq, or memory (in-process only)').choices(['zeromq', 'memory']).default('zeromq'))
    .option('--max-message-size <bytes>', 'zeromq: the largest frame a socket accepts; a peer sending a larger one is disconnected unread (-1: no limit, as the original)', String(DEFAULT_MAX_MESSAGE_SIZE))
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', `
Every other --key value pair is added to the config (values are strings), as the original does.

Examples:
  switchyard service -s replyer.ts -a addresses.json -c config.json
  switchyard service -s leading.ts -a addresses.json -m -cl DEBUG --symbol BTC-USD`)
    .action(async (flags: Record<string, unknown>, command: Command) => {
      const servicePath = String(flags.servicePath);
      const fileLevel = (flags.fileLoglevel ?? flags.f) as string | undefined;
      const log = createServiceLog({
        consoleLevel: String(flags.consoleLoglevel),
        service: basename(servicePath, extname(servicePath)),
        ...(flags.logFolder ? { folder: String(flags.logFolder) } : {}),
        ...(fileLevel ? { fileLevel } : {}),
      });
      const logger = log.logger;
      if (flags.backupCount !== undefined) logger.warn('-bc/--backup-count is accepted but the log file is not rotated');
      const maxMessageSize = Number(flags.maxMessageSize);
      if (!Number.isSafeInteger(maxMessageSize) || (maxMessageSize < 1 && maxMessageSize !== -1)) {
        throw new errors.SY_ERR_USAGE(`--max-message-size ${JSON.stringify(flags.maxMessageSize)} is not valid; give a whole number of bytes ≥ 1, or -1 for no limit`);
      }
      const sockets = flags.transport === 'memory'
        ? new (await import('../transports/memory/memory-sockets.js')).MemorySockets()
        : new (await import('../transports/zeromq/zeromq-sockets.js')).ZeroMqSockets({ onError: (what, err) => logger.error({ err }, `${what} stopped`), maxMessageSize, logger });
      process.exitCode = await serviceCommand({
        servicePath,
        ...(flags.addressesPath ? { addressesPath: String(flags.addressesPath) } : {}),
        ...(flags.configPath ? { configPath: String(flags.configPath) } : {}),
        mainMode: Boolean(flags.mainMode),
        extra: command.args,
        sockets,
        logger,
      }).finally(() => log.close());
    });
}
