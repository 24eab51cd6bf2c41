// The task section's flags on `run` and `dev` (light: the CLI lists them before it knows
// which models the modules hold).

import type { FlagSpec } from '../../config/settings/flag-spec.js';

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
