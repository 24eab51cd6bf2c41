// One system, whatever mix of models the modules hold: what `switchyard run` and `dev`
// both do. Settings from the one settings system (every present model's section plus the
// process's), transports through the one registry, one Runtime with one component per
// running service, metrics/health and the dashboard derived from its observer stream.

import { resolve } from 'node:path';
import type { ConfigSource } from '../config/config-source.js';
import { flagLayerOf } from '../config/settings/flags.js';
import { envLayer, fileLayer, resolveSettings, type Layer, type SettingsSection } from '../config/settings/settings.js';
import { errors } from '../errors.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { startMetricsServer } from '../observability/metrics.js';
import type { ModelKind } from '../observability/observer.js';
import { observerMetrics } from '../observability/observer-metrics.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ModelRunner, RunContext } from '../runtime/model.js';
import { TransportRegistry } from '../runtime/registry.js';
import { Runtime } from '../runtime/runtime.js';
import { observerLog } from '../observability/observer-log.js';
import { hostedMemoryOf } from '../transports/memory/shared/shared-transport.js';
import type { DefinitionsByModel } from './definitions.js';
import { loadRunner } from './models.js';
import { processFlags, processSettingsSection, type ProcessSettings } from './process-settings.js';
import { readSettingsFile } from './settings-file.js';
import { createConfigSource, createStore, transportSpecOf } from './environment.js';

export interface SystemOptions {
  readonly definitions: DefinitionsByModel;
  /** Commander's values of the command's flags. */
  readonly flags: Record<string, unknown>;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** The logger, made once the process settings (its level) are known. */
  readonly logger: (settings: ProcessSettings) => Logger;
  /** Process settings that win over every source (dev pins the embedded default). */
  readonly pinned?: Partial<ProcessSettings>;
  /** Write the stream's log lines (default true; dev prints the flow instead unless a level is asked for). */
  readonly streamLog?: boolean;
  /** The configuration source to use instead of the one settings name (dev serves the folder's map). */
  readonly configSource?: () => Promise<ConfigSource>;
}

export interface System {
  readonly runtime: Runtime;
  readonly logger: Logger;
  readonly transports: TransportRegistry;
  readonly settings: ProcessSettings;
  /** Each present model's resolved section. */
  readonly sections: ReadonlyMap<ModelKind, unknown>;
  readonly runners: ReadonlyMap<ModelKind, ModelRunner>;
  readonly metricsUrl?: string;
  /** The shared configuration source and store, made on first use. */
  configSource(): Promise<ConfigSource>;
  objectStore(): Promise<ObjectStore>;
}

const silentLogger = createLogger({ level: 'silent' });

/** The settings of the process and of every present model, from flags, environment, settings file and the originals' files. */
export async function resolveSystemSettings(
  runners: ReadonlyMap<ModelKind, ModelRunner>,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  cwd: string,
  pinned: Partial<ProcessSettings> = {},
  makeLogger: (settings: ProcessSettings) => Logger = () => silentLogger,
): Promise<{ process: ProcessSettings; sections: Map<ModelKind, unknown>; logger: Logger }> {
  const sections: SettingsSection[] = [processSettingsSection, ...[...runners.values()].map((r) => r.settings)];
  const file = (flags.settings as string | undefined) ?? env.SWITCHYARD_SETTINGS;
  const flagLayers: Layer[] = [
    flagLayerOf('', processFlags, flags),
    ...[...runners.values()].map((r) => flagLayerOf(r.settings.name, r.flags ?? [], flags)),
  ];
  const pinnedLayer: Layer = { source: 'this command', values: { '': pinned } };
  const documentedEnv = [...runners.values()].flatMap((r) => r.envLayers?.(env) ?? []);
  const base: Layer[] = [pinnedLayer, ...flagLayers, ...documentedEnv, envLayer(sections, env), ...(file ? [fileLayer(sections, readSettingsFile(file), file)] : [])];
  let resolved = resolveSettings(sections, base) as Record<string, unknown>;
  // The process section takes nothing from the originals' files: its logger can be made now.
  const logger = makeLogger(resolved[''] as ProcessSettings);
  // The originals' own files, located by the first pass, are weaker than everything above.
  const originals: Layer[] = [];
  for (const r of runners.values()) {
    if (r.originalLayers) originals.push(...(await r.originalLayers(resolved[r.settings.name], { env, cwd, logger })));
  }
  if (originals.length > 0) resolved = resolveSettings(sections, [...base, ...originals]) as Record<string, unknown>;
  const out = new Map<ModelKind, unknown>();
  for (const [model, r] of runners) out.set(model, resolved[r.settings.name]);
  return { process: resolved[''] as ProcessSettings, sections: out, logger };
}

/** Builds the system (components added, nothing started). On failure everything made is closed. */
export async function buildSystem(options: SystemOptions): Promise<System> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const runners = new Map<ModelKind, ModelRunner>();
  for (const model of options.definitions.keys()) runners.set(model, await loadRunner(model));
  const { process: settings, sections, logger } = await resolveSystemSettings(runners, options.flags, env, cwd, options.pinned, options.logger);

  const runtime = new Runtime({ logger });
  // Operators' log lines of every model, derived from the stream (each model says how loud "handled" is).
  if (options.streamLog !== false) {
    const log = observerLog(runtime.observer, logger, { handledAt: (model) => runners.get(model)?.logHandledAt ?? 'debug' });
    runtime.addResource({ name: 'log', stop: async () => log.flush() });
  }
  const transports = new TransportRegistry({ logger, stateDir: resolve(cwd, settings.stateDir), memory: memoryOptionsOf(settings), tracing: settings.tracing });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  let config: Promise<ConfigSource> | undefined;
  let store: Promise<ObjectStore> | undefined;
  const configSource = () => (config ??= options.configSource ? options.configSource() : createConfigSource(settings));
  const objectStore = () =>
    (store ??= createStore(settings, configSource).then((s) => {
      runtime.addResource({ name: 'object store', stop: async () => s.close?.() });
      return s;
    }));

  let metricsUrl: string | undefined;
  try {
    if (settings.metricsPort !== undefined) {
      const metrics = observerMetrics(runtime.observer);
      const server = await startMetricsServer({ registry: metrics.registry, port: settings.metricsPort, health: () => runtime.health() });
      runtime.addResource({ name: 'metrics server', stop: () => server.close() });
      metricsUrl = `${server.url}/metrics`;
    }
    await warnOfDiscardedWork(runtime, transports, settings, logger);
    for (const [model, definitions] of options.definitions) {
      const runner = runners.get(model)!;
      const section = sections.get(model) as { transport?: unknown } | undefined;
      const ctx: RunContext = {
        logger,
        observer: runtime.observer,
        transports,
        settings: section,
        transport: await transportSpecOf(runner, section, settings, configSource),
        stateDir: resolve(cwd, settings.stateDir),
        configSource,
        objectStore,
      };
      for (const component of await runner.components(definitions, ctx)) await runtime.add(component);
    }
  } catch (err) {
    await runtime.stop().catch(() => undefined);
    throw err;
  }
  return { runtime, logger, transports, settings, sections, runners, ...(metricsUrl ? { metricsUrl } : {}), configSource, objectStore };
}

/**
 * On the embedded default, messages still queued in the broker this process hosts end with
 * it: say so as it stops, never drop them silently.
 */
async function warnOfDiscardedWork(runtime: Runtime, transports: TransportRegistry, settings: ProcessSettings, logger: Logger): Promise<void> {
  if (settings.transport !== 'memory') return;
  runtime.addResource({
    name: 'embedded broker check',
    stop: async () => {
      const hosted = hostedMemoryOf((await transports.opened('memory')?.catch(() => undefined))?.queues);
      const { waiting = 0, delayed = 0 } = hosted?.activity() ?? {};
      if (waiting + delayed > 0) logger.warn({ waiting, delayed }, 'embedded broker: messages still queued are discarded as this process, which hosts it, ends');
    },
  });
}

function memoryOptionsOf(settings: ProcessSettings) {
  return {
    ...(settings.memoryQueueMaxLength !== undefined ? { maxLength: settings.memoryQueueMaxLength } : {}),
    ...(settings.memoryQueueMaxBytes !== undefined ? { maxBytes: settings.memoryQueueMaxBytes } : {}),
    ...(settings.memoryQueueOverflow !== undefined ? { overflow: settings.memoryQueueOverflow } : {}),
  };
}

/** Refuses a run with nothing to run. */
export function requireDefinitions(definitions: DefinitionsByModel, where: string): void {
  if (definitions.size === 0) throw new errors.SY_ERR_USAGE(`${where} holds no services`);
}
