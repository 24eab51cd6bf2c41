// The API model's settings: ONE section of the settings system ("api" in a settings file,
// SWITCHYARD_API_* in the environment, Lightbus's LIGHTBUS_SERVICE_NAME / _PROCESS_NAME /
// _CONFIG beside them). A Lightbus bus config file is a layer read into this section
// (lightbus-config-file.ts); merging, precedence and the error shape are the settings
// system's (config/settings/settings.ts). This file declares the keys and turns resolved
// values into what a bus runs with (milliseconds, one settings object per API).

import { z } from 'zod';
import { jsonText } from '../../config/settings/text-values.js';
import { defineSection } from '../../config/settings/settings.js';
import { errors } from '../../errors.js';

/** "true"/"false" (and 1/0, yes/no) as environment variables spell them, or a boolean. */
function boolish(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  return value;
}
const bool = z.preprocess(boolish, z.boolean('must be true or false'));

const seconds = z.coerce.number().positive();

const validate = z
  .union([bool, z.object({ outgoing: bool.default(true), incoming: bool.default(true) }).strict()])
  .default(true)
  .transform((v) => (typeof v === 'boolean' ? { outgoing: v, incoming: v } : v));

/** The settings of one API (Lightbus's `apis.<name>`); `default` holds those of every API not named. */
export const apiEntrySchema = z
  .object({
    rpcTimeout: seconds.default(5).describe('Seconds a caller waits for an RPC result before SY_ERR_REQUEST_TIMEOUT. Lightbus rpc_timeout.'),
    eventFireTimeout: seconds.default(5).describe('Seconds fire() waits for the transport to store an event. Lightbus event_fire_timeout.'),
    validate: validate.describe('Check what this process sends (outgoing) and receives (incoming) against the API\'s schema: true, false, or {outgoing, incoming}. Lightbus validate.'),
    strictValidation: bool.default(false).describe('Refuse to call or fire on an API whose schema is neither declared here nor on the bus (else a warning). Lightbus strict_validation.'),
    transport: z.string().min(1).optional().describe('A transport of its own for this API (memory or redis://…, in the registry\'s vocabulary); unset: the section\'s transport. From the bus config\'s event/rpc/result_transport of this API.'),
    prefetch: z.coerce.number().int().min(1).default(10).describe('Events handed to one listener at once. Lightbus event_transport batch_size.'),
    reclaimIdle: seconds.default(60).describe('Seconds an event may stay unacknowledged with one member before another takes it over. Lightbus event_transport acknowledgement_timeout.'),
    maxAttempts: z.coerce.number().int().min(1).default(5).describe('Handler failures of one event before it is set aside with the reason (listeners with onError "retry").'),
  })
  .strict();
export type ApiEntrySettings = z.output<typeof apiEntrySchema>;

const plugins = z
  .object({
    internalState: z
      .object({
        enabled: bool.default(false).describe('Fire worker_started, worker_ping and worker_stopped on API internal.state, as Lightbus\'s state plugin.'),
        pingEnabled: bool.default(true).describe('Send worker_ping every pingInterval.'),
        pingInterval: seconds.default(60).describe('Seconds between pings.'),
      })
      .strict()
      .default({ enabled: false, pingEnabled: true, pingInterval: 60 }),
    internalMetrics: z
      .object({ enabled: bool.default(false).describe('Fire an event on API internal.metrics per RPC and event, as Lightbus\'s metrics plugin.') })
      .strict()
      .default({ enabled: false }),
  })
  .strict();

const schema = z.object({
  busConfig: z.string().min(1).optional()
    .describe('A Lightbus bus configuration (YAML or JSON; a path or an http(s) URL), read as a source below the environment and settings files. LIGHTBUS_CONFIG; --bus-config, SWITCHYARD_BUS_CONFIG.'),
  serviceName: z.string().min(1).default('{friendly}')
    .describe('The service\'s name: listener groups are {serviceName}-{listenerName}. Placeholders {hostname} {pid} {random4} {random8} {random16} {friendly}. LIGHTBUS_SERVICE_NAME; --service-name, SWITCHYARD_SERVICE_NAME.'),
  processName: z.string().min(1).default('{random4}')
    .describe('This process inside its listener groups (same placeholders). LIGHTBUS_PROCESS_NAME; --process-name, SWITCHYARD_PROCESS_NAME.'),
  transport: z.string().min(1).optional()
    .describe('The transport of every API without one of its own and of the schemas: memory (the embedded default) or redis://host:port/db, optionally with Lightbus\'s transport settings as query parameters (stream_use, max_stream_length, result_ttl, rpc_timeout). From the bus config\'s apis.default transports, else bus.schema.transport.'),
  schemaTtl: z.coerce.number().int().min(1).default(60)
    .describe('Seconds an API\'s schema lives on the bus; re-stored every ttl*0.8. Lightbus bus.schema.ttl.'),
  remoteTraces: bool.optional()
    .describe('Whether error results of RPCs served here carry the stack trace to the caller. Default: off in production mode (NODE_ENV=production), on otherwise. SWITCHYARD_REMOTE_TRACES.'),
  apis: z.preprocess(jsonText, z.record(z.string(), apiEntrySchema, 'must be a mapping of API name to settings (in the environment: JSON)')).default({})
    .describe('Settings per API name; "default" applies to every API not named (named APIs do not inherit from it, as in Lightbus). In the environment: JSON, e.g. {"default":{"rpcTimeout":10}}.'),
  plugins: z.preprocess(jsonText, plugins).default({ internalState: { enabled: false, pingEnabled: true, pingInterval: 60 }, internalMetrics: { enabled: false } })
    .describe('Lightbus\'s state and metrics plugins (events on internal.state and internal.metrics).'),
});

/** The section: key "api" in settings files, SWITCHYARD_API_{KEY} and Lightbus's own variable names. */
export const apiSettingsSection = defineSection('api', schema, {
  busConfig: 'LIGHTBUS_CONFIG',
  serviceName: 'LIGHTBUS_SERVICE_NAME',
  processName: 'LIGHTBUS_PROCESS_NAME',
});

/** The resolved section, as the settings system hands it to the runner. */
export type ApiModelSettings = z.output<typeof schema>;

/** The settings of one API as a bus applies them (the section's per-API entry, in ms). */
export interface ApiSettings {
  /** How long a caller waits for an RPC result. Lightbus rpc_timeout: 5 s. */
  readonly rpcTimeoutMs: number;
  /** How long fire() waits for the transport to store an event. Lightbus: 5 s. */
  readonly eventFireTimeoutMs: number;
  /** Check what this process sends (outgoing) and what it receives (incoming). */
  readonly validate: { readonly outgoing: boolean; readonly incoming: boolean };
  /** Refuse to call or fire on an API whose schema is neither local nor on the bus. */
  readonly strictValidation: boolean;
}

export interface ListenerSettings {
  /** Events handed to one listener at once. Lightbus batch_size: 10. */
  readonly prefetch: number;
  /** An event held unacked this long is given to another member (Lightbus acknowledgement_timeout, 60 s). */
  readonly reclaimIdleMs: number;
  /** Handler failures before an event is set aside with the reason. */
  readonly maxAttempts: number;
}

export function apiSettingsOf(entry: ApiEntrySettings): ApiSettings {
  return { rpcTimeoutMs: entry.rpcTimeout * 1000, eventFireTimeoutMs: entry.eventFireTimeout * 1000, validate: entry.validate, strictValidation: entry.strictValidation };
}

export function listenerSettingsOf(entry: ApiEntrySettings): ListenerSettings {
  return { prefetch: entry.prefetch, reclaimIdleMs: entry.reclaimIdle * 1000, maxAttempts: entry.maxAttempts };
}

const defaults = apiEntrySchema.parse({});
/** What a bus applies to an API no setting names: the section's defaults (Lightbus's). */
export const DEFAULT_API_SETTINGS: ApiSettings = apiSettingsOf(defaults);
export const DEFAULT_LISTENER_SETTINGS: ListenerSettings = listenerSettingsOf(defaults);

/** The entry an API runs with: its own, else `default`'s, else the defaults (no inheritance, as in Lightbus). */
export function entryOf(settings: Pick<ApiModelSettings, 'apis'>, api: string): ApiEntrySettings {
  return settings.apis[api] ?? settings.apis.default ?? defaults;
}

/**
 * Production mode is NODE_ENV=production (as Node libraries read it). There, error results
 * carry no stack trace to callers unless SWITCHYARD_REMOTE_TRACES=true; elsewhere they do
 * (as Lightbus's) unless SWITCHYARD_REMOTE_TRACES=false. A bus made in code without the
 * `remoteTraces` option follows this rule too.
 */
export function remoteTracesByDefault(env: NodeJS.ProcessEnv = process.env): boolean {
  const set = env.SWITCHYARD_REMOTE_TRACES;
  if (set !== undefined && set.trim() !== '') {
    const parsed = boolish(set);
    if (typeof parsed !== 'boolean') throw new errors.SY_ERR_SETTINGS(`api.remoteTraces (from environment variable SWITCHYARD_REMOTE_TRACES): must be true or false, got ${JSON.stringify(set)}`);
    return parsed;
  }
  return env.NODE_ENV !== 'production';
}
