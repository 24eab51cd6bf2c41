// A Lightbus bus configuration file (YAML or JSON, from a path or an http(s) URL) as a
// SOURCE of the api settings section: a Layer under the environment and settings files.
// The file keeps Lightbus's structure (SPECS.md §5.5): every key Lightbus 1.3 accepts loads;
// those Switchyard does not act on are listed (UNUSED_SETTINGS) and logged once; an
// unknown key or a value Lightbus would refuse is one SY_ERR_SETTINGS naming the key as
// the file spells it and the file. Defaults are the section's, not the file's: a key the
// file leaves out is simply not in the layer.
//
// What maps where: service_name, process_name → serviceName, processName; bus.schema.ttl →
// schemaTtl; apis.<name> → apis.<name> (rpc_timeout → rpcTimeout, ...; its event/rpc/result
// transport → transport, batch_size → prefetch, acknowledgement_timeout → reclaimIdle); the
// transports of apis.default (else bus.schema.transport) → transport; plugins → plugins.
// A transport selector becomes a spec in the registry's vocabulary: "memory" for Lightbus's
// debug transport or ours, the Redis URL with Lightbus's transport settings as query
// parameters otherwise (transports/bus/bus-url.ts).

import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Layer } from '../../config/settings/settings.js';
import { errors, redactUrl } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { problemsOf, toJsonSchema } from '../../schema/mod.js';
import { busUrlWith } from '../../transports/bus/bus-url.js';

// ---- the file's structure, as Lightbus's config/structure.py and its transports' from_config() define it

const url = z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL');
/** aioredis pool options (maxsize, minsize, timeout, db, password, ssl, …): not ours to use. */
const connectionParameters = z.record(z.string(), z.unknown());
/** Lightbus names Python classes here; only its own wire formats are spoken on Redis. */
const serializer = (what: string, className: string) =>
  z.literal(`lightbus.serializers.${className}`, { error: `"lightbus.serializers.${className}": Switchyard speaks Lightbus's own ${what} format only (a custom Python serializer cannot run here)` }).optional();
const seconds = z.number().positive();

const eventRedis = z
  .object({
    url: url.optional(),
    connection_parameters: connectionParameters.optional(),
    batch_size: z.number().int().min(1).optional(),
    reclaim_batch_size: z.number().int().min(1).nullable().optional(),
    serializer: serializer('event', 'ByFieldMessageSerializer'),
    deserializer: serializer('event', 'ByFieldMessageDeserializer'),
    acknowledgement_timeout: seconds.optional(),
    reclaim_interval: seconds.nullable().optional(),
    /** null: streams are not trimmed. */
    max_stream_length: z.number().int().min(1).nullable().optional(),
    stream_use: z.enum(['per_api', 'per_event']).optional(),
    consumption_restart_delay: seconds.optional(),
    consumer_ttl: seconds.optional(),
    service_name: z.string().nullable().optional(),
    consumer_name: z.string().nullable().optional(),
  })
  .strict();

const rpcRedis = z
  .object({
    url: url.optional(),
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
    url: url.optional(),
    connection_parameters: connectionParameters.optional(),
    serializer: serializer('result', 'BlobMessageSerializer'),
    deserializer: serializer('result', 'BlobMessageDeserializer'),
    result_ttl: z.number().int().min(1).optional(),
    rpc_timeout: seconds.optional(),
  })
  .strict();

const schemaRedis = z.object({ url: url.optional(), connection_parameters: connectionParameters.optional() }).strict();

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

const validateSetting = z.union([z.boolean(), z.object({ outgoing: z.boolean().optional(), incoming: z.boolean().optional() }).strict()]);

const apiConfig = z
  .object({
    rpc_timeout: seconds.optional(),
    event_listener_setup_timeout: seconds.optional(),
    event_fire_timeout: seconds.optional(),
    validate: validateSetting.optional(),
    strict_validation: z.boolean().optional(),
    cast_values: z.boolean().optional(),
    event_transport: selector(eventRedis).nullable().optional(),
    rpc_transport: selector(rpcRedis).nullable().optional(),
    result_transport: selector(resultRedis).nullable().optional(),
  })
  .strict();
type ApiConfig = z.output<typeof apiConfig>;

/** The structure of a Lightbus bus configuration file; `switchyard config schema` prints it as JSON Schema. */
export const lightbusConfigFormat = z
  .object({
    service_name: z.string().min(1).optional(),
    process_name: z.string().min(1).optional(),
    bus: z
      .object({
        log_level: z.enum(['debug', 'info', 'warning', 'error', 'critical']).optional(),
        schema: z
          .object({ human_readable: z.boolean().optional(), ttl: z.number().int().min(1).optional(), transport: selector(schemaRedis).nullable().optional() })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    apis: z.record(z.string(), apiConfig).optional(),
    plugins: z
      .object({
        internal_state: z.object({ enabled: z.boolean().optional(), ping_enabled: z.boolean().optional(), ping_interval: z.number().positive().optional() }).strict().nullable().optional(),
        internal_metrics: z.object({ enabled: z.boolean().optional() }).strict().nullable().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
type LightbusConfig = z.output<typeof lightbusConfigFormat>;

export function lightbusConfigJsonSchema(): Record<string, unknown> {
  return toJsonSchema(lightbusConfigFormat, { title: 'Switchyard bus configuration', io: 'input' });
}

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

// ---- the file as a layer of the api section

/** The layer read from one bus configuration file, with the Lightbus settings it gave that have no effect here. */
export interface BusConfigLayer extends Layer {
  /** Places in the file (e.g. apis.default.cast_values) naming settings Switchyard accepts and does not use. */
  readonly unused: readonly string[];
}

const LIGHTBUS_REDIS_URL = 'redis://127.0.0.1:6379/0';
type Selector = { memory?: object | null; debug?: object | null; redis?: { url?: string | undefined } | null } | null | undefined;

/** Where a selector points, as a registry spec: "memory" (ours, Lightbus's debug), else the Redis URL. */
function serverOf(selector: NonNullable<Selector>): string {
  return selector.redis ? (selector.redis.url ?? LIGHTBUS_REDIS_URL) : 'memory';
}

/** One API's transport spec from its three selectors (which must agree), or undefined when it names none. */
function transportOfEntry(name: string, c: ApiConfig, source: string): string | undefined {
  const given = [c.event_transport, c.rpc_transport, c.result_transport].filter((s): s is NonNullable<typeof s> => s != null);
  if (given.length === 0) return undefined;
  const servers = new Set(given.map(serverOf));
  if (servers.size > 1) {
    throw new errors.SY_ERR_SETTINGS(`apis.${name} (from ${source}): event_transport, rpc_transport and result_transport name different transports (${[...servers].map(redactUrl).join(', ')}); Switchyard carries one API on one transport: make them equal`);
  }
  const server = [...servers][0]!;
  if (server === 'memory') return 'memory';
  const event = c.event_transport?.redis ?? undefined;
  const rpc = c.rpc_transport?.redis ?? undefined;
  const result = c.result_transport?.redis ?? undefined;
  return busUrlWith(server, {
    ...(event?.stream_use !== undefined ? { streamUse: event.stream_use } : {}),
    ...(event?.max_stream_length !== undefined ? { maxStreamLength: event.max_stream_length } : {}),
    ...(result?.result_ttl !== undefined ? { resultTtlS: result.result_ttl } : {}),
    ...(rpc?.rpc_timeout !== undefined ? { rpcExpiryS: rpc.rpc_timeout } : {}),
  });
}

/** One API's entry of the section, from its entry in the file (`fallback`: default's, for its listener settings when it names no event transport). */
function sectionEntryOf(c: ApiConfig, transport: string | undefined, fallback: ApiConfig | undefined): Record<string, unknown> {
  const eventRedis = (c.event_transport ?? fallback?.event_transport)?.redis ?? undefined;
  const out: Record<string, unknown> = {};
  if (c.rpc_timeout !== undefined) out.rpcTimeout = c.rpc_timeout;
  if (c.event_fire_timeout !== undefined) out.eventFireTimeout = c.event_fire_timeout;
  if (c.validate !== undefined) out.validate = c.validate;
  if (c.strict_validation !== undefined) out.strictValidation = c.strict_validation;
  if (transport !== undefined) out.transport = transport;
  if (eventRedis?.batch_size !== undefined) out.prefetch = eventRedis.batch_size;
  if (eventRedis?.acknowledgement_timeout !== undefined) out.reclaimIdle = eventRedis.acknowledgement_timeout;
  return out;
}

/** The api section's values a parsed bus configuration gives. */
function sectionValuesOf(config: LightbusConfig, source: string): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  if (config.service_name !== undefined) values.serviceName = config.service_name;
  if (config.process_name !== undefined) values.processName = config.process_name;
  if (config.bus?.schema?.ttl !== undefined) values.schemaTtl = config.bus.schema.ttl;
  const apis = config.apis ?? {};
  const fallback = apis.default;
  // The model's transport: default's transports, else the schema store's (as Lightbus falls back).
  const defaultTransport = fallback ? transportOfEntry('default', fallback, source) : undefined;
  const schemaTransport = config.bus?.schema?.transport ? serverOf(config.bus.schema.transport) : undefined;
  const transport = defaultTransport ?? schemaTransport;
  if (transport !== undefined) values.transport = transport;
  if (Object.keys(apis).length > 0) {
    const entries: Record<string, unknown> = {};
    for (const [name, c] of Object.entries(apis)) {
      const own = transportOfEntry(name, c, source);
      // Named APIs on the model's transport need no transport of their own.
      entries[name] = sectionEntryOf(c, name === 'default' || own === transport ? undefined : own, name === 'default' ? undefined : fallback);
    }
    values.apis = entries;
  }
  const { internal_state: state, internal_metrics: metrics } = config.plugins ?? {};
  if (state || metrics) {
    values.plugins = {
      internalState: {
        enabled: state?.enabled ?? false,
        ...(state?.ping_enabled !== undefined ? { pingEnabled: state.ping_enabled } : {}),
        ...(state?.ping_interval !== undefined ? { pingInterval: state.ping_interval } : {}),
      },
      internalMetrics: { enabled: metrics?.enabled ?? false },
    };
  }
  return values;
}

/** A bus configuration already read (e.g. YAML parsed) as a layer; `source` names it in messages. */
export function busConfigLayer(data: unknown, source: string): BusConfigLayer {
  const described = `bus config ${source}`;
  const parsed = lightbusConfigFormat.safeParse(data ?? {});
  if (!parsed.success) {
    const problems = problemsOf(parsed.error, data).map((p) => `${p.field || 'the file'} (from ${described}): expected ${p.expected}, got ${p.received}`);
    throw new errors.SY_ERR_SETTINGS(problems.join('; '));
  }
  return { source: described, values: { api: sectionValuesOf(parsed.data, described) }, unused: unusedSettings(data) };
}

/** Reads a bus configuration from a file path or an http(s) URL, YAML or JSON, as a layer. */
export async function loadBusConfigLayer(location: string): Promise<BusConfigLayer> {
  const shown = redactUrl(location);
  const fail = (why: string) => new errors.SY_ERR_SETTINGS(`api.busConfig: bus config ${shown} ${why}`);
  let text: string;
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
      throw fail(`could not be fetched (${(error as Error).message.replaceAll(location, shown)}); check the URL`);
    }
    if (!response.ok) throw fail(`could not be fetched: GET answered ${response.status}; check the URL`);
    text = await response.text();
  } else {
    try {
      text = await readFile(location, 'utf8');
    } catch {
      throw fail('cannot be read; check the path');
    }
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw fail(`is not YAML or JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  return busConfigLayer(data, shown);
}

/** Logs, once per layer, the Lightbus settings it gave that have no effect here. */
const told = new WeakSet<BusConfigLayer>();
export function logUnusedSettings(layer: BusConfigLayer, logger: Logger): void {
  if (layer.unused.length === 0 || told.has(layer)) return;
  told.add(layer);
  logger.info(
    { settings: layer.unused, why: Object.fromEntries(layer.unused.map((path) => [path, UNUSED_SETTINGS[path.replace(/^apis\.[^.]+\./, 'apis.*.')]])) },
    `the bus configuration has ${layer.unused.length} Lightbus setting(s) that Switchyard accepts and does not use: ${layer.unused.join(', ')}`,
  );
}
