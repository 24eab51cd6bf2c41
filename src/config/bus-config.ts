// The bus configuration file (YAML or JSON, from a path or an http(s) URL), in Lightbus's
// structure (SPECS.md §5.5): service and process names, bus-level settings with the schema
// store, and per-API settings under `apis` with a `default` entry for every API not named.
// Validated with zod; `switchyard config schema` prints the JSON Schema made from it.

import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { errors, redactUrl } from '../errors.js';
import { describeProblems, problemsOf, toJsonSchema } from '../schema/mod.js';

// Lightbus's transport settings (its config/structure.py builds them from each transport's
// from_config(): `lightbus dumpconfigschema` prints them). Every key Lightbus accepts loads
// here; UNUSED_SETTINGS lists those Switchyard accepts without acting on them (logged once).
const url = z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').default('redis://127.0.0.1:6379/0');
/** aioredis pool options (maxsize, minsize, timeout, db, password, ssl, …): not ours to use. */
const connectionParameters = z.record(z.string(), z.unknown());
/** Lightbus names Python classes here; only its own wire formats are spoken on Redis. */
const serializer = (what: string, className: string) =>
  z.literal(`lightbus.serializers.${className}`, { error: `"lightbus.serializers.${className}": Switchyard speaks Lightbus's own ${what} format only (a custom Python serializer cannot run here)` }).optional();
const seconds = z.number().positive();

const eventRedis = z
  .object({
    url,
    connection_parameters: connectionParameters.optional(),
    batch_size: z.number().int().min(1).default(10),
    reclaim_batch_size: z.number().int().min(1).nullable().optional(),
    serializer: serializer('event', 'ByFieldMessageSerializer'),
    deserializer: serializer('event', 'ByFieldMessageDeserializer'),
    acknowledgement_timeout: seconds.default(60),
    reclaim_interval: seconds.nullable().optional(),
    /** null: streams are not trimmed. */
    max_stream_length: z.number().int().min(1).nullable().default(100_000),
    stream_use: z.enum(['per_api', 'per_event']).default('per_api'),
    consumption_restart_delay: seconds.optional(),
    consumer_ttl: seconds.optional(),
    service_name: z.string().nullable().optional(),
    consumer_name: z.string().nullable().optional(),
  })
  .strict();

const rpcRedis = z
  .object({
    url,
    connection_parameters: connectionParameters.optional(),
    batch_size: z.number().int().min(1).optional(),
    serializer: serializer('RPC', 'BlobMessageSerializer'),
    deserializer: serializer('RPC', 'BlobMessageDeserializer'),
    /** Seconds the expiry key of a call lives (Lightbus: 5); unset, as long as its caller waits. */
    rpc_timeout: seconds.optional(),
    rpc_retry_delay: seconds.optional(),
    consumption_restart_delay: seconds.optional(),
  })
  .strict();

const resultRedis = z
  .object({
    url,
    connection_parameters: connectionParameters.optional(),
    serializer: serializer('result', 'BlobMessageSerializer'),
    deserializer: serializer('result', 'BlobMessageDeserializer'),
    result_ttl: z.number().int().min(1).default(60),
    rpc_timeout: seconds.optional(),
  })
  .strict();

const schemaRedis = z.object({ url, connection_parameters: connectionParameters.optional() }).strict();

/**
 * Exactly one of `redis`, `memory` (ours: the in-process bus) or `debug` (Lightbus's
 * transports that only log; here the in-process bus as well), as Lightbus's selectors hold
 * exactly one transport (the others absent or null). An object with optional keys rather
 * than a union, so that a bad key inside `redis` is named by its path.
 */
function selector<R extends z.ZodType>(redis: R) {
  return z
    .object({ memory: z.object({}).strict().nullable().optional(), debug: z.object({}).strict().nullable().optional(), redis: redis.nullable().optional() })
    .strict()
    .refine((s) => [s.memory, s.debug, s.redis].filter((v) => v != null).length === 1, { message: 'exactly one of "redis", "memory" or "debug"' });
}
export const eventTransportSelector = selector(eventRedis);
const rpcTransportSelector = selector(rpcRedis);
const resultTransportSelector = selector(resultRedis);
const schemaTransportSelector = selector(schemaRedis);
/** Any of the four selectors, after parsing. */
export type TransportSelector =
  | z.output<typeof eventTransportSelector>
  | z.output<typeof rpcTransportSelector>
  | z.output<typeof resultTransportSelector>
  | z.output<typeof schemaTransportSelector>;

const validateSetting = z.union([z.boolean(), z.object({ outgoing: z.boolean().default(true), incoming: z.boolean().default(true) }).strict()]);

const apiConfig = z
  .object({
    rpc_timeout: seconds.default(5),
    event_listener_setup_timeout: seconds.optional(),
    event_fire_timeout: seconds.default(5),
    validate: validateSetting.default(true),
    strict_validation: z.boolean().default(false),
    cast_values: z.boolean().optional(),
    event_transport: eventTransportSelector.nullable().optional(),
    rpc_transport: rpcTransportSelector.nullable().optional(),
    result_transport: resultTransportSelector.nullable().optional(),
  })
  .strict();
export type ApiConfig = z.output<typeof apiConfig>;

export const busConfigSchema = z
  .object({
    service_name: z.string().min(1).default('{friendly}'),
    process_name: z.string().min(1).default('{random4}'),
    bus: z
      .object({
        log_level: z.enum(['debug', 'info', 'warning', 'error', 'critical']).default('info'),
        schema: z
          .object({
            human_readable: z.boolean().default(true),
            ttl: z.number().int().min(1).default(60),
            transport: schemaTransportSelector.nullable().optional(),
          })
          .strict()
          .default({ human_readable: true, ttl: 60 }),
      })
      .strict()
      .default({ log_level: 'info', schema: { human_readable: true, ttl: 60 } }),
    apis: z.record(z.string(), apiConfig).default({}),
    plugins: z
      .object({
        internal_state: z
          .object({ enabled: z.boolean().default(false), ping_enabled: z.boolean().default(true), ping_interval: z.number().positive().default(60) })
          .strict()
          .nullable()
          .optional(),
        internal_metrics: z.object({ enabled: z.boolean().default(false) }).strict().nullable().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();
export type BusConfig = z.output<typeof busConfigSchema> & {
  /** Settings the file gave that Switchyard accepts and does not act on (see unusedSettings). */
  readonly unused?: readonly string[];
};

/**
 * Lightbus settings with no effect here, by their place in the file (`*` is any API name),
 * and why. Everything else Lightbus accepts is used.
 */
export const UNUSED_SETTINGS: Readonly<Record<string, string>> = {
  'bus.log_level': 'the log level is set with --log-level / SWITCHYARD_LOG_LEVEL',
  'bus.schema.human_readable': 'schemas are stored as compact JSON with sorted keys',
  'bus.schema.transport.redis.connection_parameters': 'connections are made from the url (put a password and database in it)',
  'apis.*.event_listener_setup_timeout': 'a listener is set up before listen() returns',
  'apis.*.cast_values': 'values are always converted as the declaration of the API says (dates, bytes)',
  'apis.*.event_transport.redis.connection_parameters': 'connections are made from the url (put a password and database in it)',
  'apis.*.event_transport.redis.reclaim_batch_size': 'reclaim takes up to the free prefetch slots at a time',
  'apis.*.event_transport.redis.serializer': 'the by-field format is always used',
  'apis.*.event_transport.redis.deserializer': 'the by-field format is always used',
  'apis.*.event_transport.redis.reclaim_interval': 'reclaim runs every acknowledgement_timeout (at most every 60 s)',
  'apis.*.event_transport.redis.consumption_restart_delay': 'reconnects use their own backoff',
  'apis.*.event_transport.redis.consumer_ttl': 'idle consumers and empty groups are not cleaned up',
  'apis.*.event_transport.redis.service_name': 'listener groups are named from the top-level service_name',
  'apis.*.event_transport.redis.consumer_name': 'consumers are named from the top-level process_name',
  'apis.*.rpc_transport.redis.connection_parameters': 'connections are made from the url (put a password and database in it)',
  'apis.*.rpc_transport.redis.batch_size': 'a server takes as many calls as it has free slots',
  'apis.*.rpc_transport.redis.serializer': 'the blob format is always used',
  'apis.*.rpc_transport.redis.deserializer': 'the blob format is always used',
  'apis.*.rpc_transport.redis.rpc_retry_delay': 'a call is sent once (at most once); a send that fails fails the call',
  'apis.*.rpc_transport.redis.consumption_restart_delay': 'reconnects use their own backoff',
  'apis.*.result_transport.redis.connection_parameters': 'connections are made from the url (put a password and database in it)',
  'apis.*.result_transport.redis.serializer': 'the blob format is always used',
  'apis.*.result_transport.redis.deserializer': 'the blob format is always used',
  'apis.*.result_transport.redis.rpc_timeout': 'the caller waits apis.*.rpc_timeout',
};

/** The places in `data` (a config as read) that name a setting of UNUSED_SETTINGS. */
export function unusedSettings(data: unknown): string[] {
  const found: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const visit = (value: unknown, path: string[], pattern: string[]) => {
    if (UNUSED_SETTINGS[pattern.join('.')] !== undefined) return void found.push(path.join('.'));
    if (!isObject(value)) return;
    for (const [key, sub] of Object.entries(value)) visit(sub, [...path, key], [...pattern, pattern.length === 1 && pattern[0] === 'apis' ? '*' : key]);
  };
  visit(data, [], []);
  return found;
}

export function busConfigJsonSchema(): Record<string, unknown> {
  return toJsonSchema(busConfigSchema, { title: 'Switchyard bus configuration', io: 'input' });
}

export function parseBusConfig(data: unknown, source: string): BusConfig {
  const result = busConfigSchema.safeParse(data ?? {});
  if (!result.success) throw new errors.SY_ERR_BUS_CONFIG(source, describeProblems(problemsOf(result.error, data)));
  return { ...result.data, unused: unusedSettings(data) };
}

/** Reads a config from a file path or an http(s) URL, YAML or JSON. */
export async function loadBusConfig(location: string): Promise<BusConfig> {
  let text: string;
  const shown = redactUrl(location);
  if (/^https?:\/\//.test(location)) {
    // fetch refuses URLs with credentials (and would echo them in its error): send them as
    // Basic auth instead, and keep every message about the URL redacted.
    const url = new URL(location);
    const headers: Record<string, string> = {};
    if (url.username !== '' || url.password !== '') {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    let response: Response;
    try {
      response = await fetch(url, { headers });
    } catch (error) {
      const why = (error as Error).message.replaceAll(location, shown);
      throw new errors.SY_ERR_BUS_CONFIG(shown, [`it could not be fetched (${why}); check the URL`]);
    }
    if (!response.ok) throw new errors.SY_ERR_BUS_CONFIG(shown, [`GET answered ${response.status}; check the URL`]);
    text = await response.text();
  } else {
    try {
      text = await readFile(location, 'utf8');
    } catch {
      throw new errors.SY_ERR_BUS_CONFIG(shown, ['the file cannot be read; check the path']);
    }
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new errors.SY_ERR_BUS_CONFIG(shown, [`it is not YAML or JSON: ${(error as Error).message.split('\n')[0]}`]);
  }
  return parseBusConfig(data, shown);
}

const ADJECTIVES = ['amber', 'brisk', 'calm', 'deft', 'eager', 'fleet', 'gentle', 'hardy', 'keen', 'lucid'];
const NOUNS = ['badger', 'comet', 'falcon', 'harbor', 'lantern', 'meadow', 'otter', 'quarry', 'signal', 'willow'];

/** Lightbus's name placeholders: {hostname} {pid} {random4} {random8} {random16} {friendly}. */
export function expandName(template: string): string {
  const pick = (list: string[]) => list[randomBytes(1)[0]! % list.length]!;
  return template
    .replaceAll('{hostname}', hostname())
    .replaceAll('{pid}', String(process.pid))
    .replaceAll('{random4}', randomBytes(2).toString('hex'))
    .replaceAll('{random8}', randomBytes(4).toString('hex'))
    .replaceAll('{random16}', randomBytes(8).toString('hex'))
    .replaceAll('{friendly}', `${pick(ADJECTIVES)}-${pick(NOUNS)}`);
}

/** The three transport selectors of one API's settings (its own entry, else `default`), as given. */
export interface ApiTransports {
  readonly event?: z.output<typeof eventTransportSelector>;
  readonly rpc?: z.output<typeof rpcTransportSelector>;
  readonly result?: z.output<typeof resultTransportSelector>;
}

/** An API's transports: those its own entry names, else those of `default`. */
export function transportsOfApi(config: BusConfig, api: string): ApiTransports {
  const own = config.apis[api];
  const fallback = config.apis.default;
  const given = [own?.event_transport, own?.rpc_transport, own?.result_transport].some((s) => s != null);
  const c = given ? own : fallback;
  return { ...(c?.event_transport ? { event: c.event_transport } : {}), ...(c?.rpc_transport ? { rpc: c.rpc_transport } : {}), ...(c?.result_transport ? { result: c.result_transport } : {}) };
}

/** Where a selector points: "memory" (the in-process bus; Lightbus's debug as well) or the Redis URL. */
export function serverOf(selector: TransportSelector): string {
  return selector.redis ? selector.redis.url : 'memory';
}

/** The transport of one API: its own settings, else `default`'s, else the schema's, else memory. */
export function transportOfApi(config: BusConfig, api: string): TransportSelector {
  const { event, rpc, result } = transportsOfApi(config, api);
  return event ?? rpc ?? result ?? config.bus.schema.transport ?? { memory: {} };
}

/** The settings of one API: its own entry, else `default` (APIs do not inherit from default, as in Lightbus). */
export function settingsOfApi(config: BusConfig, api: string): ApiConfig {
  return config.apis[api] ?? config.apis.default ?? apiConfig.parse({});
}
