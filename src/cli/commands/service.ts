// `switchyard service -s service.ts -a addresses.json -c config.json [-m] [-cl LEVEL] [--key value ...]`:
// runs one service of the service_framework model, with the original's command line
// (SPECS.md §2.5): the config file is loaded as is and every extra `--key value` pair is
// merged into it (values stay strings); -m runs `main` (a leading-edge service).
// SIGINT runs the service's sigintHandler, then stops it; SIGTERM stops it.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve, basename, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { stopOnSignals } from '../../runtime/lifecycle.js';
import { isServiceDefinition, pairsToConfig, startService, type Addresses, type ServiceDefinition } from '../../models/service/mod.js';
import type { SocketFactory } from '../../transports/sockets.js';

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

export interface ServiceCommandOptions {
  readonly servicePath: string;
  readonly addressesPath?: string;
  readonly configPath?: string;
  readonly mainMode: boolean;
  /** The extra `--key value` arguments, in order. */
  readonly extra: readonly string[];
  readonly sockets: SocketFactory;
  readonly logger: Logger;
}

let tsxRegistered = false;

async function importServiceModule(path: string): Promise<Record<string, unknown>> {
  const file = resolve(path);
  if (!existsSync(file) || !statSync(file).isFile()) throw new errors.SY_ERR_MODULE(path, 'no such file');
  if (/\.[cm]?tsx?$/.test(file) && !tsxRegistered) {
    const [{ register }, { register: registerCjs }] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    register();
    registerCjs();
    tsxRegistered = true;
  }
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new errors.SY_ERR_MODULE(path, `importing it failed: ${(err as Error).message}`);
  }
}

/** The module's service: its default export, or the one exported service definition. */
export async function loadServiceDefinition(path: string): Promise<ServiceDefinition> {
  const mod = await importServiceModule(path);
  if (isServiceDefinition(mod.default)) return mod.default;
  const found = Object.values(mod).filter(isServiceDefinition);
  if (found.length === 1) return found[0]!;
  throw new errors.SY_ERR_MODULE(path, found.length === 0
    ? 'it exports no service; add `export default service({ connections: {...}, states: {...} })`'
    : `it exports ${found.length} services; export one as default`);
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new errors.SY_ERR_SETTINGS(`${what} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new errors.SY_ERR_SETTINGS(`${what} ${path} is not JSON: ${(err as Error).message}`);
  }
}

function asObject(value: unknown, path: string, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new errors.SY_ERR_SETTINGS(`${what} ${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}

export async function serviceCommand(options: ServiceCommandOptions): Promise<number> {
  const { logger, sockets } = options;
  const definition = await loadServiceDefinition(options.servicePath);
  const addresses = options.addressesPath ? (asObject(readJson(options.addressesPath, 'addresses file'), options.addressesPath, 'addresses file') as Addresses) : {};
  const fileConfig = options.configPath ? asObject(readJson(options.configPath, 'config file'), options.configPath, 'config file') : {};
  // As the original: the file as is, then the extra pairs over it.
  const config = { ...fileConfig, ...pairsToConfig(options.extra) };
  const name = definition.name ?? basename(options.servicePath, extname(options.servicePath));
  const running = await startService(definition, { sockets, addresses, config, logger, mainMode: options.mainMode, name }).catch(async (err) => {
    await sockets.close();
    throw err;
  });

  let signalled: NodeJS.Signals | undefined;
  const signals = stopOnSignals(
    {
      stop: async () => {
        try {
          if (signalled === 'SIGINT') await running.sigint('SIGINT');
        } catch (err) {
          logger.error({ err }, 'the SIGINT handler failed');
        }
        await running.stop();
        await sockets.close();
      },
    },
    {
      onFirstSignal: (signal) => {
        signalled = signal;
        logger.info({ signal }, 'stopping (signal again to exit at once)');
      },
      onSecondSignal: (signal) => logger.warn({ signal }, 'second signal: exiting now'),
    },
  );
  if (options.mainMode) {
    try {
      await running.done;
    } finally {
      if (signalled === undefined) {
        signals.remove();
        await sockets.close();
      }
    }
    if (signalled !== undefined) await signals.stopped;
    return 0;
  }
  await signals.stopped;
  return 0;
}
