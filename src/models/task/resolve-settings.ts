// The task section resolved outside `switchyard run` (embedding a task service in one's own
// program, and tests): the same layers `run` uses for this section, strongest first: the
// flags below, the environment (SWITCHYARD_TASK_*, then the Core engine's names), `.env`
// and `../.env`, the defaults.

import { flagLayerOf, type FlagSpec } from '../../config/settings/flags.js';
import { envLayer, resolveSettings, type Layer } from '../../config/settings/settings.js';
import { dotEnvLayers } from './dot-env.js';
import { taskSettingsSection, type TaskSettings } from './settings.js';

/** The task-service flags of `run` and `dev`: their spellings, the section key each sets. */
export const TASK_FLAGS: readonly FlagSpec[] = [
  { option: '--port <port>', key: 'port', help: 'task services: port to serve on; env SERVICE_PORT (default 9090)' },
  { option: '--host <address>', key: 'host', help: 'task services: address to bind; env SERVICE_HOST (default 127.0.0.1; 0.0.0.0 for every interface)' },
  { option: '--service-url <url>', key: 'serviceUrl', help: 'task services: the URL engines reach this service at; env SERVICE_URL (default http://localhost:{port})' },
  { option: '--engine-url <url>', key: 'engineUrls', help: 'task services: an engine to register with (repeat for several); env ENGINE_URLS, a JSON list', repeat: true },
  { option: '--max-tasks <n>', key: 'maxTasks', help: 'task services: tasks queued or running before /compute answers 503; env MAX_TASKS (default 50)' },
  { option: '--task-concurrency <n>', key: 'concurrency', help: 'task services: tasks run at once; env TASK_CONCURRENCY (default 1)' },
  { option: '--max-pending-callbacks <n>', key: 'maxPendingCallbacks', help: 'task services: ended tasks whose callback is still being retried before /compute answers 503; env MAX_PENDING_CALLBACKS (default MAX_TASKS)' },
  { option: '--heartbeat-interval <seconds>', key: 'heartbeatInterval', help: 'task services: POST {engine}/services/{slug}/ping this often (0 = none); env HEARTBEAT_INTERVAL (default 20)' },
  { option: '--outbound-allow <entry>', key: 'outboundAllow', help: 'task services: a host, *.suffix, host:port, address or network a task\'s callback_url and s3_host may point at (repeat; default anywhere); env OUTBOUND_ALLOW_LIST', repeat: true },
  { option: '--auth-token <ref>', key: 'authToken', help: 'task services: require Authorization: Bearer on /compute and task status; a secret reference env:NAME, file:PATH or pass:NAME; env SERVICE_AUTH_TOKEN' },
];

/** Commander's values of TASK_FLAGS as the settings system's flag layer. */
export function taskFlagLayer(flags: Record<string, unknown>): Layer {
  return flagLayerOf('task', TASK_FLAGS, flags);
}

/** The task section from flags, environment and the .env files of `cwd`. */
export function resolveTaskSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): TaskSettings {
  const sections = [taskSettingsSection] as const;
  return resolveSettings(sections, [taskFlagLayer(flags), envLayer(sections, env), ...dotEnvLayers(cwd)]).task;
}
