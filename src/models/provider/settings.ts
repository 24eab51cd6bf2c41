// The provider model's settings: ONE section of the settings system ("provider" in a settings
// file, SWITCHYARD_PROVIDER_{KEY} in the environment, the flags of `switchyard provider run`).
// Merging, precedence and the error shape are the settings system's
// (config/settings/settings.ts); this file declares the keys and reads the Go provider's own
// JSON config file into a layer.
//
// The keys keep the Go provider's spelling (socket_dir, service_name, …: its pflag names and
// its config file's keys), so the file maps onto the section key for key and the environment
// names are the ones the provider has always documented (SWITCHYARD_PROVIDER_SOCKET_DIR, …).
// The Go provider reads no environment variable of its own (viper without AutomaticEnv), so
// the section has no `originalEnv`. Times are seconds, as in the original (fractions allowed).

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { jsonText, listText } from '../../config/settings/text-values.js';
import { defineSection, envLayer, resolveSettings, type Layer } from '../../config/settings/settings.js';
import { errors, redactUrl } from '../../errors.js';
import { levelNames, validateLevel, type LevelName } from '../../observability/logger.js';
import { outboundAllowList } from '../../runtime/outbound-allow-list.js';

/** A task or service name usable as a file or folder name. */
export function isPathName(name: string): boolean {
  return /^[A-Za-z0-9._-]{1,100}$/.test(name) && name !== '.' && name !== '..';
}

const logLevel = z.string().transform((value, ctx): LevelName => {
  try {
    return validateLevel(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be a log level: ${levelNames.join(', ')} (the Go provider's warning works too)` });
    return z.NEVER;
  }
});

const wholeNumber = (min: number) => z.coerce.number({ error: `must be a whole number ≥ ${min}` }).int(`must be a whole number ≥ ${min}`).min(min, `must be a whole number ≥ ${min}`);
const seconds = z.coerce.number({ error: 'must be a number of seconds ≥ 0' }).min(0, 'must be a number of seconds ≥ 0').refine(Number.isFinite, 'must be a number of seconds ≥ 0');

const TASK_KEYS = ['priority', 'timeout'];

/** One task's settings (tasks.{name} in the config file; registerTask's options in code). */
export const taskSettingsSchema = z.looseObject({
  priority: wholeNumber(0).optional()
    .describe('Registration priority of this task: part of its socket name; a higher number is preferred by coordinators.'),
  timeout: seconds.optional()
    .describe('Handler time limit of this task, in seconds; 0 = no limit.'),
}, 'must be an object such as {"priority": 60, "timeout": 30}').superRefine((task, ctx) => {
  // Named with their path (tasks.T.prio), which a strict object's "unrecognized keys" would lose.
  for (const key of Object.keys(task)) {
    if (!TASK_KEYS.includes(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'is not a task setting; use only "priority" and "timeout"' });
  }
}).transform(({ priority, timeout }) => ({ ...(priority !== undefined ? { priority } : {}), ...(timeout !== undefined ? { timeout } : {}) }));

export type TaskSettings = z.output<typeof taskSettingsSchema>;

const schema = z.object({
  service_name: z.string().refine(isPathName, 'must be usable in a file name: letters, digits, ".", "_" and "-" only').optional()
    .describe('The name the provider registers as: part of every socket file name ({socket_dir}/{task}/{priority}-{service_name}.sock). Required unless the module names one (defineProvider(name, ...)). The Go provider\'s --service_name/-n.'),
  socket_dir: z.string().min(1, 'must be a folder').default('/tmp/mistify')
    .describe('Base folder of the task sockets, the response hook and the stream sockets. Default /tmp/mistify, as the Go provider. --socket_dir/-s.'),
  coordinator_url: z.string()
    .refine((url) => {
      try {
        return ['unix:', 'http:', 'https:'].includes(new URL(url).protocol);
      } catch {
        return false;
      }
    }, 'must be a unix:// or http(s):// URL, e.g. unix:///tmp/mistify/coordinator/coordinator.sock')
    .optional()
    .describe('Where requests this provider originates go (acomm Send, the response to its own hook). Unset: straight to the best provider found in socket_dir (the built-in coordinator client). --coordinator_url/-u.'),
  default_priority: wholeNumber(0).default(50)
    .describe('Priority of tasks without their own (tasks.{name}.priority). Default 50. --default_priority/-p.'),
  log_level: logLevel.default('warn')
    .describe('trace, debug, info, warn(ing), error, fatal, silent. Default warning, as the Go provider. --log_level/-l.'),
  default_timeout: seconds.default(60)
    .describe('Handler time limit in seconds for tasks without their own (tasks.{name}.timeout); 0 = no limit. Default 60. The Go provider\'s config file key.'),
  request_timeout: seconds.default(0)
    .describe('How long a request this provider originates waits for its response, in seconds; 0 = 60, the original tracker\'s default. --request_timeout/-t.'),
  max_frame_bytes: wholeNumber(1).default(16 * 1024 * 1024)
    .describe('Largest acomm frame body accepted on any socket, in bytes; a larger one is refused before it is read. Default 16 MiB.'),
  socket_mode: z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(/^0?[0-7]{3}$/, 'must be an octal file mode, e.g. "0660" or "0600"')).default('0660')
    .describe('File mode of the sockets the provider creates, in octal. Default "0660".'),
  response_hook_allow: z.preprocess(listText, z.array(z.string('must be a list of strings, e.g. ["unix:/tmp/mistify", "10.0.0.0/8", "hooks.example.com"]'), 'must be a list of strings, e.g. ["unix:/tmp/mistify", "10.0.0.0/8", "hooks.example.com"]'))
    .superRefine((entries, ctx) => {
      try {
        outboundAllowList(entries, 'response_hook_allow');
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `has an entry that cannot be used (${(err as Error).message})` });
      }
    })
    .default([])
    .describe('Where responses may be sent: hosts, *.suffix, host:port, IPs, CIDRs, unix:/folder (a JSON list, or comma-separated in flags and the environment). A request whose response hook is elsewhere is refused in its ack. Empty (default): any hook, as the original.'),
  max_open_streams: wholeNumber(1).default(256)
    .describe('Stream sockets announced and not yet read, at most; past it a stream answer is refused with an error response. Default 256.'),
  stream_idle_timeout: seconds.default(60)
    .describe('How long a stream socket waits for its reader, in seconds; 0 = forever (the original). Default 60.'),
  tasks: z.preprocess(jsonText, z.record(z.string(), taskSettingsSchema, 'must be an object of {"TaskName": {"priority": 60, "timeout": 30}}')).default({})
    .describe('Per-task settings by task name: {"TaskName": {"priority": 60, "timeout": 30}}. The Go provider\'s config file key; JSON in SWITCHYARD_PROVIDER_TASKS.'),
});

/** The section: key "provider" in settings files, SWITCHYARD_PROVIDER_{KEY} in the environment. */
export const providerSettingsSection = defineSection('provider', schema);

/** The resolved section, as the settings system hands it to the runner. */
export type ProviderSettings = z.output<typeof schema>;

/** The section's keys as written in code, a config file or a settings file (before defaults and checks). */
export type ProviderSettingsInput = { readonly [K in keyof z.input<typeof schema>]?: z.input<typeof schema>[K] | undefined };

/** The section's keys. */
export const PROVIDER_SETTING_KEYS = Object.keys(schema.shape) as (keyof ProviderSettings)[];

/** Keys a flag can set (every key but tasks, which only a file or code sets). */
export const PROVIDER_FLAG_KEYS = PROVIDER_SETTING_KEYS.filter((k) => k !== 'tasks');

/** The Go provider's pflag names (with underscores); `switchyard provider run` takes them too. */
export const GO_FLAG_KEYS = ['config_file', 'service_name', 'socket_dir', 'default_priority', 'coordinator_url', 'log_level', 'request_timeout'] as const;

/** The environment variable naming the Go provider's config file. */
export const CONFIG_FILE_ENV = 'SWITCHYARD_PROVIDER_CONFIG_FILE';

/**
 * Settings given in code (provider({...}), tests, embedding) resolved by the section alone:
 * the defaults filled in, every problem one SY_ERR_SETTINGS naming the key.
 */
export function providerSettings(input: ProviderSettingsInput | ProviderSettings = {}): ProviderSettings {
  const values = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  return resolveSettings([providerSettingsSection], [{ source: 'code', values: { provider: values } }]).provider;
}

/**
 * The Go provider's JSON config file (--config_file/-c, SWITCHYARD_PROVIDER_CONFIG_FILE) as a
 * layer: its keys are the section's. Its own `config_file` key is dropped, as viper's is.
 */
export function providerConfigFileLayer(file: string): Layer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new errors.SY_ERR_SETTINGS(`provider.config_file (${file}) cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new errors.SY_ERR_SETTINGS(`provider.config_file (${file}) is not JSON (${(err as Error).message}); fix the file`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new errors.SY_ERR_SETTINGS(`provider.config_file (${file}) does not hold a JSON object; write {"service_name": "...", ...}`);
  }
  const { config_file: _ignored, ...values } = data as Record<string, unknown>;
  return { source: `provider config file ${file}`, values: { provider: values } };
}

export interface LoadProviderSettingsOptions {
  /** The Go provider's JSON config file; default SWITCHYARD_PROVIDER_CONFIG_FILE. */
  readonly configFile?: string | undefined;
  /** Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Command-line values, strongest (the CLI's flag layer). */
  readonly flags?: Layer;
}

/**
 * The provider section from its sources, strongest first: flags, SWITCHYARD_PROVIDER_*, the
 * Go provider's config file, defaults. For code that runs a provider without the CLI:
 * `provider(loadProviderSettings({ configFile: 'config.json' }))`.
 */
export function loadProviderSettings(options: LoadProviderSettingsOptions = {}): ProviderSettings {
  const env = options.env ?? process.env;
  const file = options.configFile ?? (env[CONFIG_FILE_ENV] || undefined);
  const layers: Layer[] = [...(options.flags ? [options.flags] : []), envLayer([providerSettingsSection], env)];
  if (file !== undefined) layers.push(providerConfigFileLayer(file));
  return resolveSettings([providerSettingsSection], layers).provider;
}

/** The name the README used before the settings system: the same function. */
export const loadProviderConfig = loadProviderSettings;

/** Where the settings point, for messages: a coordinator URL without credentials. */
export function describeCoordinator(settings: ProviderSettings): string {
  return settings.coordinator_url ? redactUrl(settings.coordinator_url) : `the socket folder ${settings.socket_dir}`;
}
