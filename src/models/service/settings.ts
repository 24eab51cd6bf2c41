// The service model's settings: ONE section of the settings system ("service" in a settings
// file, SWITCHYARD_SERVICE_{KEY} in the environment, the flags of `switchyard service`).
// Merging, precedence and the error shape are the settings system's
// (config/settings/settings.ts); this file declares the keys and reads service_framework's
// own files into a layer.
//
// service_framework reads no environment variables (its only inputs are its command line and
// two JSON files), so the section has no `originalEnv`. Its files are a source, like every
// original's: serviceFrameworkLayer() reads the addresses file (-a; nested as 0.0.3 or flat as
// 0.0.19+, given to setupAddresses as it is) and the config file (-c) with the extra
// `--key value` arguments merged over it, as the original does — one source, below flags, the
// environment and a settings file.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { jsonText } from '../../config/settings/text-values.js';
import { defineSection, type Layer } from '../../config/settings/settings.js';
import { errors } from '../../errors.js';
import { levelNames, validateLevel, type LevelName } from '../../observability/logger.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../../transports/zeromq/defaults.js';
import type { Config } from './definition.js';

/** "true"/"1"/"yes" and "false"/"0"/"no" (any case) from the environment, as booleans. */
function booleanText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  return value;
}

const jsonObject = (what: string) =>
  z.preprocess(jsonText, z.record(z.string(), z.unknown(), { error: `must be a JSON object (${what})` }));

const logLevel = z.string().transform((value, ctx): LevelName => {
  try {
    return validateLevel(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be a log level: ${levelNames.join(', ')} (any case; Python's WARNING and CRITICAL work too)` });
    return z.NEVER;
  }
});

const schema = z.object({
  transport: z.string().regex(/^(zeromq|memory|(tcp|ipc|inproc):\/\/.*)$/, 'must be zeromq, memory, or a tcp:// (ipc://, inproc://) URL').optional()
    .describe('The sockets the service runs on: zeromq (default; addresses are "host:port" or tcp:// endpoints) or memory (in-process, for tests and embedding). The flag --transport.'),
  addresses: jsonObject('the addresses file: {"connections": {"in", "out"}, "states": {"in", "out"}}, or the flat {"in", "out"} of 0.0.19+').optional()
    .describe('Where each connection\'s and state\'s sockets are: service_framework\'s addresses file (-a), nested as 0.0.3 or flat as 0.0.19+; handed to setupAddresses as it is. In a settings file or SWITCHYARD_SERVICE_ADDRESSES (JSON) it replaces the file\'s content.'),
  config: jsonObject('the service\'s config, checked against its config model').optional()
    .describe('The service\'s own config, validated against its config model after setupConfig: service_framework\'s config file (-c) with the extra --key value arguments merged over it (values stay strings). In a settings file or SWITCHYARD_SERVICE_CONFIG (JSON) it replaces them.'),
  mainMode: z.preprocess(booleanText, z.boolean({ error: 'must be true or false' })).default(false)
    .describe('Main mode (-m): run the service\'s main(toSend, config) and stop when it returns (a leading-edge service); inbound states are refused, as in 0.0.3.'),
  maxMessageSize: z.coerce.number({ error: 'must be a whole number of bytes ≥ 1, or -1 for no limit' }).int('must be a whole number of bytes ≥ 1, or -1 for no limit')
    .refine((n) => n >= 1 || n === -1, 'must be a whole number of bytes ≥ 1, or -1 for no limit').default(DEFAULT_MAX_MESSAGE_SIZE)
    .describe('The largest frame a receiving socket (replyer, subscriber, requester) accepts, in bytes; a peer sending a larger one is disconnected before its body is read. -1: no limit, as the original. Default 16 MiB. The flag --max-message-size.'),
  consoleLoglevel: logLevel.default('info')
    .describe('Level of the log on stdout (-cl/--console_loglevel): trace, debug, info, warn, error, fatal, silent, or Python\'s names (INFO, WARNING, ...). Default INFO, as the original.'),
  fileLoglevel: logLevel.default('info')
    .describe('Level of the log file written with logFolder (-f/--file_loglevel). Default INFO.'),
  logFolder: z.string().min(1).optional()
    .describe('Also write the log, as JSON lines, to {logFolder}/{service}.log (-l/--log_folder).'),
  backupCount: z.coerce.number().int().min(0).optional()
    .describe('Accepted for compatibility (-bc/--backup_count): the original keeps this many hourly log files; Switchyard does not rotate its log file and warns when it is given.'),
});

/** The section: key "service" in settings files, SWITCHYARD_SERVICE_{KEY} in the environment. */
export const serviceSettingsSection = defineSection('service', schema);

/** The resolved section, as the settings system hands it to the runner. */
export type ServiceSettings = z.output<typeof schema>;

/**
 * The original's rule for its unknown command-line arguments: `key value` pairs, a leading
 * "--" or "-" stripped from the key, values kept as strings; an odd count is an error.
 */
export function pairsToConfig(extra: readonly string[]): Config {
  if (extra.length % 2 !== 0) {
    throw new errors.SY_ERR_USAGE(`extra arguments come in "--key value" pairs, got ${extra.length} (${extra.map((a) => JSON.stringify(a)).join(' ')}); give every key a value`);
  }
  const out: Config = {};
  for (let i = 0; i < extra.length; i += 2) out[extra[i]!.replace(/^--?/, '')] = extra[i + 1]!;
  return out;
}

function readJsonObject(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new errors.SY_ERR_SETTINGS(`${what} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new errors.SY_ERR_SETTINGS(`${what} ${path} is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new errors.SY_ERR_SETTINGS(`${what} ${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}

export interface ServiceFrameworkFiles {
  /** The addresses file (-a/--addresses_path). */
  readonly addressesPath?: string;
  /** The config file (-c/--config_path). */
  readonly configPath?: string;
  /** The extra command-line arguments, `--key value` pairs, in order. */
  readonly extra?: readonly string[];
}

/**
 * service_framework's own files as a layer: `addresses` from the addresses file, `config` from
 * the config file (loaded as is) with the extra pairs merged over it, as the original's
 * start-up does. Nothing given: an empty layer.
 */
export function serviceFrameworkLayer(files: ServiceFrameworkFiles): Layer {
  const values: Record<string, unknown> = {};
  const extra = files.extra ?? [];
  if (files.addressesPath !== undefined) values.addresses = readJsonObject(files.addressesPath, 'addresses file');
  const pairs = pairsToConfig(extra);
  if (files.configPath !== undefined || extra.length > 0) {
    values.config = { ...(files.configPath !== undefined ? readJsonObject(files.configPath, 'config file') : {}), ...pairs };
  }
  const spelled: Record<string, string> = {
    addresses: `${files.addressesPath ?? ''} (-a)`,
    config: [files.configPath !== undefined ? `${files.configPath} (-c)` : '', extra.length > 0 ? 'the extra --key value arguments' : ''].filter(Boolean).join(' and '),
  };
  return { source: 'service_framework file', values: { service: values }, spelling: (_section, key) => spelled[key] ?? key };
}
