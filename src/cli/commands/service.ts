// `switchyard service -s service.ts -a addresses.json -c config.json [-m] [-cl LEVEL] [--key value ...]`:
// runs one service of the service_framework model with the original's command line
// (SPECS.md §2.5), on the one runtime: the settings system resolves the "service" section
// (flags > SWITCHYARD_SERVICE_* > service_framework's files: the addresses file, the config
// file with every extra `--key value` pair merged over it), the runner makes the component
// on the transport the registry opens, and the Runtime starts it and stops it on a signal.
// -m runs `main` (a leading-edge service) and exits when it returns. SIGINT runs the
// service's sigintHandler, then stops it; SIGTERM stops it.

import { existsSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { envLayer, flagLayer, resolveSettings, type Layer } from '../../config/settings/settings.js';
import { errors } from '../../errors.js';
import { commonJsHint, exportedValues, importModule } from '../load-services.js';
import type { Logger } from '../../observability/logger.js';
import type { RunContext } from '../../runtime/model.js';
import { TransportRegistry } from '../../runtime/registry.js';
import { Runtime } from '../../runtime/runtime.js';
import {
  isServiceDefinition, runner, service, serviceFrameworkLayer, serviceSettingsSection,
  type ServiceComponent, type ServiceDefinition, type ServiceSettings,
} from '../../models/service/mod.js';

export { normalizeServiceArgv } from '../service-argv.js';

/** Which flag of `switchyard service` sets which key of the service section, as a user spells it. */
const FLAG_OF: Readonly<Record<string, string>> = {
  transport: '--transport',
  mainMode: '-m',
  maxMessageSize: '--max-message-size',
  consoleLoglevel: '-cl',
  fileLoglevel: '-f',
  logFolder: '-l',
  backupCount: '-bc',
};

/** The command's flags (as commander parsed them) as the flag layer of the service section. */
export function serviceFlagLayer(flags: Record<string, unknown>): Layer {
  const values: Record<string, unknown> = {
    transport: flags.transport,
    // -m is a switch: absent leaves the key to the environment.
    mainMode: flags.mainMode === true ? true : undefined,
    maxMessageSize: flags.maxMessageSize,
    consoleLoglevel: flags.consoleLoglevel,
    fileLoglevel: flags.fileLoglevel ?? flags.f,
    logFolder: flags.logFolder,
    backupCount: flags.backupCount,
  };
  return flagLayer({ service: values }, (_section, key) => FLAG_OF[key] ?? key);
}

export interface ServiceCommandInput {
  /** Parsed flags of `switchyard service`. */
  readonly flags: Record<string, unknown>;
  /** The extra `--key value` arguments, in order. */
  readonly extra: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/** The service section, strongest first: flags, SWITCHYARD_SERVICE_*, service_framework's files. */
export function resolveServiceSettings(input: ServiceCommandInput): ServiceSettings {
  const files = serviceFrameworkLayer({
    ...(input.flags.addressesPath !== undefined ? { addressesPath: String(input.flags.addressesPath) } : {}),
    ...(input.flags.configPath !== undefined ? { configPath: String(input.flags.configPath) } : {}),
    extra: input.extra,
  });
  return resolveSettings([serviceSettingsSection], [serviceFlagLayer(input.flags), envLayer([serviceSettingsSection], input.env), files]).service;
}

async function importServiceModule(path: string): Promise<Record<string, unknown>> {
  const file = resolve(path);
  if (!existsSync(file) || !statSync(file).isFile()) throw new errors.SY_ERR_MODULE(path, 'no such file');
  try {
    return await importModule(file);
  } catch (err) {
    throw new errors.SY_ERR_MODULE(path, `importing it failed: ${(err as Error).message}`);
  }
}

/** The module's service: its default export, or the one exported service definition. */
export async function loadServiceDefinition(path: string): Promise<ServiceDefinition> {
  const mod = await importServiceModule(path);
  if (isServiceDefinition(mod.default)) return mod.default;
  // A CommonJS module (a .ts file outside a "type": "module" package) brings its default inside.
  const cjsDefault = (mod.default as { default?: unknown } | null | undefined)?.default;
  if (isServiceDefinition(cjsDefault)) return cjsDefault;
  const found = [...new Set(exportedValues(mod).filter(isServiceDefinition))];
  if (found.length === 1) return found[0]!;
  throw new errors.SY_ERR_MODULE(path, found.length === 0
    ? `it exports no service; add \`export default service({ connections: {...}, states: {...} })\`${commonJsHint(resolve(path))}`
    : `it exports ${found.length} services; export one as default`);
}

export interface ServiceCommandOptions {
  readonly servicePath: string;
  readonly settings: ServiceSettings;
  readonly logger: Logger;
}

export async function serviceCommand(options: ServiceCommandOptions): Promise<number> {
  const { logger, settings } = options;
  const loaded = await loadServiceDefinition(options.servicePath);
  // Named after its file, as the original's logs are, unless it names itself.
  const definition = loaded.name !== undefined ? loaded : service({ ...loaded, name: basename(options.servicePath, extname(options.servicePath)) });
  const runtime = new Runtime({ logger });
  const transports = new TransportRegistry({ logger });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  const ctx: RunContext<ServiceSettings> = {
    logger, observer: runtime.observer, transports, settings,
    transport: settings.transport ?? runner.defaultTransport,
    stateDir: '.switchyard',
    configSource: () => Promise.reject(new errors.SY_ERR_USAGE('the service model reads no configuration service')),
    objectStore: () => Promise.reject(new errors.SY_ERR_USAGE('the service model uses no object store')),
  };
  let component: ServiceComponent | undefined;
  try {
    [component] = (await runner.components([definition], ctx)) as ServiceComponent[];
    await runtime.add(component!);
    await runtime.start();
  } catch (err) {
    await runtime.stop().catch(() => undefined);
    throw err;
  }
  if (!settings.mainMode) return runtime.untilSignal();
  // Main mode: until main returns (or throws), or a signal stops it first.
  try {
    await Promise.race([component!.done, runtime.untilSignal()]);
  } finally {
    await runtime.stop();
  }
  return 0;
}
