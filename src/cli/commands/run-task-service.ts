// `switchyard run` for a module exporting a task service: an HTTP service for a Core engine,
// served by the task model's runner on the one Runtime until SIGINT/SIGTERM. Its settings
// are the "task" section, resolved by the settings system from (strongest first) the flags
// below, the environment (SWITCHYARD_TASK_*, then SERVICE_PORT, ENGINE_URLS, ... as the
// Core engine names them), `.env`, `../.env`, defaults. It needs no queue transport, store
// or configuration service: each task brings its own S3 settings.

import { envLayer, flagLayer, resolveSettings, type Layer } from '../../config/settings/settings.js';
import { errors } from '../../errors.js';
// The task model's runner (its HTTP server, S3 stores) is loaded when a task service runs;
// the settings need only the section and the .env reader.
import { dotEnvLayers } from '../../models/task/dot-env.js';
import { taskSettingsSection, type TaskSettings } from '../../models/task/settings.js';
import { isTaskServiceDefinition, type TaskServiceDefinition } from '../../models/task/task-service.js';
import { startMetricsServer } from '../../observability/metrics.js';
import { observerMetrics } from '../../observability/observer-metrics.js';
import type { RunContext } from '../../runtime/model.js';
import { TransportRegistry } from '../../runtime/registry.js';
import { Runtime } from '../../runtime/runtime.js';
import { createStore, lazyConfigSource } from '../environment.js';
import type { ServiceDefinition } from '../load-services.js';
import type { RunOptions } from './run.js';
import { TASK_FLAGS, type TaskKey } from '../task-flags.js';

export { withTaskServiceFlags } from '../task-flags.js';

/** The flags given (commander's camelCase values) as the settings system's flag layer. */
export function taskFlagLayer(flags: Record<string, unknown>): Layer {
  const values: Record<string, unknown> = {};
  for (const f of TASK_FLAGS) if (flags[f.name] !== undefined) values[f.key] = flags[f.name];
  const spelled = new Map(TASK_FLAGS.map((f) => [f.key, f.option.split(' ')[0]!]));
  return flagLayer({ task: values }, (_section, key) => spelled.get(key as TaskKey) ?? key);
}

/** The task section from flags, environment and the .env files of `cwd`. */
export function resolveTaskSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): TaskSettings {
  const sections = [taskSettingsSection] as const;
  return resolveSettings(sections, [taskFlagLayer(flags), envLayer(sections, env), ...dotEnvLayers(cwd)]).task;
}

export async function runTaskService(definitions: readonly ServiceDefinition[], { settings, logger, flags = {} }: RunOptions): Promise<number> {
  const tasks = definitions.filter((d): d is TaskServiceDefinition => isTaskServiceDefinition(d));
  const others = definitions.filter((d) => !isTaskServiceDefinition(d));
  if (others.length > 0) {
    // The runner lets other models run beside a task service; this command does not mix them yet.
    const names = others.map((d) => (d.kind === 'api-service' ? `${Object.values(d.apis).map((a) => a.name).join('+')} (api service)` : `${d.name} (${d.kind})`)).join(', ');
    throw new errors.SY_ERR_USAGE(`switchyard run starts a task service in a process of its own for now, got ${names} beside it; run those in another process`);
  }
  const taskSettings = resolveTaskSettings(flags);
  const { runner } = await import('../../models/task/runner.js');
  const runtime = new Runtime({ logger });
  const transports = new TransportRegistry({ logger });
  runtime.addResource({ name: 'transports', stop: () => transports.close() });
  try {
    if (settings.metricsPort !== undefined) {
      const metrics = observerMetrics(runtime.observer);
      const server = await startMetricsServer({ registry: metrics.registry, port: settings.metricsPort, health: () => runtime.health() });
      runtime.addResource({ name: 'metrics server', stop: () => server.close() });
      logger.info({ url: `${server.url}/metrics` }, 'metrics served');
    }
    const configSource = lazyConfigSource(settings);
    const ctx: RunContext<TaskSettings> = {
      logger, observer: runtime.observer, transports, settings: taskSettings, transport: runner.defaultTransport, stateDir: settings.stateDir,
      configSource, objectStore: () => createStore(settings, configSource),
    };
    for (const component of await runner.components(tasks, ctx)) await runtime.add(component);
    await runtime.start();
  } catch (err) {
    await runtime.stop().catch(() => undefined);
    throw err;
  }
  return runtime.untilSignal();
}
