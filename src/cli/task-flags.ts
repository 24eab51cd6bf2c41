// The task-service flags of `switchyard run`, apart from the task model so that defining the
// command (and printing --help) loads neither the task model nor its HTTP server.

import type { Command } from 'commander';
import type { TaskSettings } from '../models/task/settings.js';

export type TaskKey = keyof TaskSettings & string;

/** The task-service flags of `switchyard run`: commander's name, the section key it sets, its spelling and help. */
export const TASK_FLAGS: readonly { readonly option: string; readonly name: string; readonly key: TaskKey; readonly help: string; readonly repeat?: true }[] = [
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

