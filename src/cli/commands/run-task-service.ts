// `switchyard run` for a module exporting a task service: an HTTP service for a Core engine,
// served by the task model's runner on the one Runtime until SIGINT/SIGTERM. Its settings
// are the "task" section, resolved by the settings system from (strongest first) the flags
// below, the environment (SWITCHYARD_TASK_*, then SERVICE_PORT, ENGINE_URLS, ... as the
// Core engine names them), `.env`, `../.env`, defaults. It needs no queue transport, store
// or configuration service: each task brings its own S3 settings.

import type { Command } from 'commander';
import { envLayer, flagLayer, resolveSettings, type Layer } from '../../config/settings/settings.js';
import { errors } from '../../errors.js';
import { dotEnvLayers, isTaskServiceDefinition, runner, taskSettingsSection, type TaskServiceDefinition, type TaskSettings } from '../../models/task/mod.js';
import { startMetricsServer } from '../../observability/metrics.js';
import { observerMetrics } from '../../observability/observer-metrics.js';
import type { RunContext } from '../../runtime/model.js';
import { TransportRegistry } from '../../runtime/registry.js';
import { Runtime } from '../../runtime/runtime.js';
import { createStore, lazyConfigSource } from '../environment.js';
import type { ServiceDefinition } from '../load-services.js';
import type { RunOptions } from './run.js';

type TaskKey = keyof TaskSettings & string;

/** The task-service flags of `switchyard run`: commander's name, the section key it sets, its spelling and help. */
const TASK_FLAGS: readonly { readonly option: string; readonly name: string; readonly key: TaskKey; readonly help: string; readonly repeat?: true }[] = [
  { option: '--port <port>', name: 'port', key: 'port', help: 'task services: port to serve on; env SERVICE_PORT (default 9090)' },
  { option: '--host <address>', name: 'host', key: 'host', help: 'task services: address to bind; env SERVICE_HOST (default 127.0.0.1; 0.0.0.0 for every interface)' },
  { option: '--service-url <url>', name: 'serviceUrl', key: 'serviceUrl', help: 'task services: the URL engines reach this service at; env SERVICE_URL (default http://localhost:{port})' },
  { option: '--engine-url <url>', name: 'engineUrl', key: 'engineUrls', help: 'task services: an engine to register with (repeat for several); env ENGINE_URLS, a JSON list', repeat: true },
  { option: '--max-tasks <n>', name: 'maxTasks', key: 'maxTasks', help: 'task services: tasks queued or running before /compute answers 503; env MAX_TASKS (default 50)' },
  { option: '--task-concurrency <n>', name: 'taskConcurrency', key: 'concurrency', help: 'task services: tasks run at once; env TASK_CONCURRENCY (default 1)' },
  { option: '--max-pending-callbacks <n>', name: 'maxPendingCallbacks', key: 'maxPendingCallbacks', help: 'task services: ended tasks whose callback is still being retried before /compute answers 503; env MAX_PENDING_CALLBACKS (default MAX_TASKS)' },
  { option: '--heartbeat-interval <seconds>', name: 'heartbeatInterval', key: 'heartbeatInterval', help: 'task services: POST {engine}/services/{slug}/ping this often (0 = none); env HEARTBEAT_INTERVAL (default 20)' },
  { option: '--outbound-allow <entry>', name: 'outboundAllow', key: 'outboundAllow', help: 'task services: a host, *.suffix, host:port, address or network a task\'s callback_url and s3_host may point at (repeat; default anywhere); env OUTBOUND_ALLOW_LIST', repeat: true },
  { option: '--auth-token <ref>', name: 'authToken', key: 'authToken', help: 'task services: require Authorization: Bearer on /compute and task status; a secret reference env:NAME, file:PATH or pass:NAME; env SERVICE_AUTH_TOKEN' },
];

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Adds the task-service flags to a command. */
export function withTaskServiceFlags(command: Command): Command {
  for (const f of TASK_FLAGS) {
    if (f.repeat) command.option(f.option, f.help, collect);
    else command.option(f.option, f.help);
  }
  return command;
}

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
