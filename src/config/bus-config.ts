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

const redisTransport = z
  .object({
    url: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').default('redis://127.0.0.1:6379/0'),
    batch_size: z.number().int().min(1).default(10),
    acknowledgement_timeout: z.number().positive().default(60),
    max_stream_length: z.number().int().min(1).default(100_000),
    stream_use: z.enum(['per_api', 'per_event']).default('per_api'),
    result_ttl: z.number().int().min(1).default(60),
  })
  .strict();

/** Exactly one of `memory` or `redis`, as Lightbus's selectors hold exactly one transport. */
export const transportSelector = z.union([
  z.object({ memory: z.object({}).strict() }).strict(),
  z.object({ redis: redisTransport }).strict(),
]);
export type TransportSelector = z.output<typeof transportSelector>;

const validateSetting = z.union([z.boolean(), z.object({ outgoing: z.boolean().default(true), incoming: z.boolean().default(true) }).strict()]);

const apiConfig = z
  .object({
    rpc_timeout: z.number().positive().default(5),
    event_fire_timeout: z.number().positive().default(5),
    validate: validateSetting.default(true),
    strict_validation: z.boolean().default(false),
    event_transport: transportSelector.optional(),
    rpc_transport: transportSelector.optional(),
    result_transport: transportSelector.optional(),
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
            transport: transportSelector.optional(),
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
          .optional(),
        internal_metrics: z.object({ enabled: z.boolean().default(false) }).strict().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();
export type BusConfig = z.output<typeof busConfigSchema>;

export function busConfigJsonSchema(): Record<string, unknown> {
  return toJsonSchema(busConfigSchema, { title: 'Switchyard bus configuration', io: 'input' });
}

export function parseBusConfig(data: unknown, source: string): BusConfig {
  const result = busConfigSchema.safeParse(data ?? {});
  if (!result.success) throw new errors.SY_ERR_BUS_CONFIG(source, describeProblems(problemsOf(result.error, data)));
  return result.data;
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

/** The transport of one API: its own settings, else `default`'s, else memory. */
export function transportOfApi(config: BusConfig, api: string): TransportSelector {
  const own = config.apis[api];
  const fallback = config.apis.default;
  const chosen = [own?.event_transport, own?.rpc_transport, own?.result_transport].find(Boolean) ?? [fallback?.event_transport, fallback?.rpc_transport, fallback?.result_transport].find(Boolean);
  return chosen ?? config.bus.schema.transport ?? { memory: {} };
}

/** The settings of one API: its own entry, else `default` (APIs do not inherit from default, as in Lightbus). */
export function settingsOfApi(config: BusConfig, api: string): ApiConfig {
  return config.apis[api] ?? config.apis.default ?? apiConfig.parse({});
}
