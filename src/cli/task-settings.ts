// Settings of a task service, read as the reference service reads them (SPECS.md §3.5):
// environment variables SERVICE_PORT, SERVICE_URL, ENGINE_URLS (a JSON list), MAX_TASKS,
// ENGINE_ANNOUNCE_RETRIES, ENGINE_ANNOUNCE_RETRY_DELAY (seconds), also from `.env` files
// (../.env, then .env, the nearer one winning; real environment variables win over both),
// plus Switchyard's own (SERVICE_HOST, TASK_CONCURRENCY, CALLBACK_RETRIES, HEARTBEAT_INTERVAL,
// MAX_PENDING_CALLBACKS, REQUEST_TIMEOUT, OUTBOUND_ALLOW_LIST, ...). Flags of
// `switchyard run` win over everything.

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { errors } from '../errors.js';
import { resolveSecret } from '../config/secrets.js';
import { retryPolicy } from '../runtime/retry.js';
import type { TaskServiceSettings } from '../models/task/mod.js';

const seconds = z.coerce.number().min(0).max(3600);

function engineUrls(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return Symbol('not JSON');
    }
  }
  return text === '' ? [] : text.split(',').map((s) => s.trim());
}

/** A JSON list, or comma-separated entries; "" is an empty list. */
function stringList(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return Symbol('not JSON');
    }
  }
  return text === '' ? [] : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

const httpUrl = z.string().regex(/^https?:\/\/[^/\s]/, 'must be an http:// or https:// URL');

/** Variable ↔ key ↔ flag, in one table. */
const VARIABLES = {
  port: { env: 'SERVICE_PORT', flag: 'port', schema: z.coerce.number().int().min(0).max(65535).default(9090) },
  host: { env: 'SERVICE_HOST', flag: 'host', schema: z.string().min(1).default('127.0.0.1') },
  serviceUrl: { env: 'SERVICE_URL', flag: 'serviceUrl', schema: httpUrl.optional() },
  engineUrls: { env: 'ENGINE_URLS', flag: 'engineUrl', schema: z.preprocess(engineUrls, z.array(httpUrl, 'must be a JSON list of URLs, e.g. ["http://localhost:8080"]')).default(['http://localhost:8080']) },
  maxTasks: { env: 'MAX_TASKS', flag: 'maxTasks', schema: z.coerce.number().int().min(1).default(50) },
  announceRetries: { env: 'ENGINE_ANNOUNCE_RETRIES', flag: 'engineAnnounceRetries', schema: z.coerce.number().int().min(0).default(5) },
  announceRetryDelay: { env: 'ENGINE_ANNOUNCE_RETRY_DELAY', flag: 'engineAnnounceRetryDelay', schema: seconds.default(3) },
  concurrency: { env: 'TASK_CONCURRENCY', flag: 'taskConcurrency', schema: z.coerce.number().int().min(1).default(1) },
  callbackRetries: { env: 'CALLBACK_RETRIES', flag: 'callbackRetries', schema: z.coerce.number().int().min(1).default(20) },
  callbackRetryDelay: { env: 'CALLBACK_RETRY_DELAY', flag: 'callbackRetryDelay', schema: seconds.default(0.5) },
  callbackRetryMaxDelay: { env: 'CALLBACK_RETRY_MAX_DELAY', flag: 'callbackRetryMaxDelay', schema: seconds.default(30) },
  taskTimeout: { env: 'TASK_TIMEOUT', flag: 'taskTimeout', schema: z.coerce.number().min(0).default(0) },
  heartbeatInterval: { env: 'HEARTBEAT_INTERVAL', flag: 'heartbeatInterval', schema: seconds.default(20) },
  maxPendingCallbacks: { env: 'MAX_PENDING_CALLBACKS', flag: 'maxPendingCallbacks', schema: z.coerce.number().int().min(1).optional() },
  requestTimeout: { env: 'REQUEST_TIMEOUT', flag: 'requestTimeout', schema: z.coerce.number().min(0.1).max(3600).default(30) },
  headersTimeout: { env: 'HEADERS_TIMEOUT', flag: 'headersTimeout', schema: z.coerce.number().min(0.1).max(3600).default(10) },
  keepAliveTimeout: { env: 'KEEP_ALIVE_TIMEOUT', flag: 'keepAliveTimeout', schema: z.coerce.number().min(0.1).max(3600).default(5) },
  outboundAllow: { env: 'OUTBOUND_ALLOW_LIST', flag: 'outboundAllow', schema: z.preprocess(stringList, z.array(z.string().min(1), 'must be a JSON list of hosts/networks, e.g. ["engine.example.com", "10.0.0.0/8"]')).optional() },
  bodyLimitBytes: { env: 'MAX_BODY_BYTES', flag: 'maxBodyBytes', schema: z.coerce.number().int().min(1024).default(1024 * 1024) },
  authToken: { env: 'SERVICE_AUTH_TOKEN', flag: 'authToken', schema: z.string().min(1).optional() },
} as const;
type Key = keyof typeof VARIABLES;

const schema = z.object(Object.fromEntries(Object.entries(VARIABLES).map(([k, v]) => [k, v.schema])) as { [K in Key]: (typeof VARIABLES)[K]['schema'] });
export type TaskSettingsInput = z.output<typeof schema>;

/**
 * A `.env` file as python-dotenv reads the usual ones: `KEY=value` lines, an optional
 * `export `, # comments, values in single or double quotes (kept verbatim, \n in double
 * quotes a newline). (node:util's parseEnv needs Node 20.12; this works on every Node 20.)
 */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'") && value.indexOf(q, 1) > 0) {
      value = value.slice(1, value.indexOf(q, 1));
      if (q === '"') value = value.replace(/\\n/g, '\n');
    } else {
      value = value.replace(/\s+#.*$/, '').trim();
    }
    out[m[1]!] = value;
  }
  return out;
}

function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  try {
    return parseDotEnv(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new errors.SY_ERR_TASK_SETTINGS([`cannot read ${path}: ${(err as Error).message}`]);
  }
}

/** The merged, checked settings: flags > environment > .env > ../.env > defaults. */
export function readTaskSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): TaskSettingsInput {
  const files = { ...readEnvFile(resolve(cwd, '..', '.env')), ...readEnvFile(resolve(cwd, '.env')) };
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const [key, v] of Object.entries(VARIABLES)) {
    const fromFlag = flags[v.flag];
    const fromEnv = env[v.env];
    const fromFile = files[v.env];
    if (fromFlag !== undefined) [merged[key], origin[key]] = [fromFlag, `flag --${v.flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`];
    else if (fromEnv !== undefined && fromEnv !== '') [merged[key], origin[key]] = [fromEnv, `environment variable ${v.env}`];
    else if (fromFile !== undefined && fromFile !== '') [merged[key], origin[key]] = [fromFile, `${v.env} in a .env file`];
  }
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    throw new errors.SY_ERR_TASK_SETTINGS(parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '') as Key;
      const name = VARIABLES[key]?.env ?? key;
      return `${name}${origin[key] ? ` (from ${origin[key]})` : ''}: ${issue.message}`;
    }));
  }
  return parsed.data;
}

/** The model's settings; resolves the auth token reference (env:, file:, pass:). */
export async function taskServiceSettings(input: TaskSettingsInput): Promise<Partial<TaskServiceSettings>> {
  const retries = input.announceRetries;
  return {
    host: input.host,
    port: input.port,
    ...(input.serviceUrl ? { serviceUrl: input.serviceUrl } : {}),
    // ENGINE_ANNOUNCE_RETRIES=0 means no announcing at all, as in the reference.
    engineUrls: retries === 0 ? [] : input.engineUrls,
    maxTasks: input.maxTasks,
    concurrency: input.concurrency,
    announceRetry: retryPolicy({ maxAttempts: Math.max(1, retries), initialDelayMs: input.announceRetryDelay * 1000, maxDelayMs: input.announceRetryDelay * 1000, factor: 1, jitter: 0 }),
    callbackRetry: retryPolicy({
      maxAttempts: input.callbackRetries, initialDelayMs: input.callbackRetryDelay * 1000,
      maxDelayMs: Math.max(input.callbackRetryDelay, input.callbackRetryMaxDelay) * 1000, factor: 2, jitter: 0.5,
    }),
    bodyLimitBytes: input.bodyLimitBytes,
    taskTimeoutMs: input.taskTimeout * 1000,
    heartbeatMs: input.heartbeatInterval * 1000,
    ...(input.maxPendingCallbacks !== undefined ? { maxPendingCallbacks: input.maxPendingCallbacks } : {}),
    requestTimeoutMs: input.requestTimeout * 1000,
    headersTimeoutMs: input.headersTimeout * 1000,
    keepAliveTimeoutMs: input.keepAliveTimeout * 1000,
    ...(input.outboundAllow && input.outboundAllow.length > 0 ? { outboundAllow: input.outboundAllow } : {}),
    ...(input.authToken ? { authToken: (await resolveSecret(input.authToken)).reveal() } : {}),
  };
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** The task-service flags of `switchyard run` (each also read from its environment variable). */
export function withTaskServiceFlags(command: Command): Command {
  return command
    .option('--port <port>', 'task services: port to serve on; env SERVICE_PORT (default 9090)')
    .option('--host <address>', 'task services: address to bind; env SERVICE_HOST (default 127.0.0.1; 0.0.0.0 for every interface)')
    .option('--service-url <url>', 'task services: the URL engines reach this service at; env SERVICE_URL (default http://localhost:{port})')
    .option('--engine-url <url>', 'task services: an engine to register with (repeat for several); env ENGINE_URLS, a JSON list', collect)
    .option('--max-tasks <n>', 'task services: tasks queued or running before /compute answers 503; env MAX_TASKS (default 50)')
    .option('--task-concurrency <n>', 'task services: tasks run at once; env TASK_CONCURRENCY (default 1)')
    .option('--max-pending-callbacks <n>', 'task services: ended tasks whose callback is still being retried before /compute answers 503; env MAX_PENDING_CALLBACKS (default MAX_TASKS)')
    .option('--heartbeat-interval <seconds>', 'task services: POST {engine}/services/{slug}/ping this often (0 = none); env HEARTBEAT_INTERVAL (default 20)')
    .option('--outbound-allow <entry>', 'task services: a host, *.suffix, host:port, address or network a task\'s callback_url and s3_host may point at (repeat; default anywhere); env OUTBOUND_ALLOW_LIST', collect)
    .option('--auth-token <ref>', 'task services: require Authorization: Bearer on /compute and task status; a secret reference env:NAME, file:PATH or pass:NAME; env SERVICE_AUTH_TOKEN');
}
