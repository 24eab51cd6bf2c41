// Settings for every command, from (strongest first) flags, SWITCHYARD_* environment
// variables, a settings file (--settings or SWITCHYARD_SETTINGS, YAML or JSON), defaults.
// Which transport, store and configuration a service uses is decided here, never in code.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { errors } from '../errors.js';
import type { MemoryTransportOptions } from '../transports/memory/mod.js';

/** true/false, also as the text a flag or an environment variable carries. */
const booleanSetting = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes'),
], { error: 'must be true or false' });

/** A mapping, or JSON text of one (flags and environment variables are text). */
const jsonObjectSetting = z.preprocess((v, ctx) => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: `must be a JSON object such as '{"x-queue-type": "quorum"}'` });
    return z.NEVER;
  }
}, z.record(z.string(), z.unknown(), { error: 'must be a mapping of argument: value' }));

export const settingsSchema = z
  .object({
    /** Configuration service: a URL, or a bare host meaning https://{host}. */
    configHost: z.string().min(1).optional(),
    /** Where GET /rabbitmq is asked; default {configHost}/rabbitmq (slingshot hard-codes its own host). */
    rabbitmqConfigUrl: z.string().url().optional(),
    /** Where GET /object-storage is asked; default {configHost}/object-storage. */
    objectStorageConfigUrl: z.string().url().optional(),
    /** Most bytes of one configuration-service answer read (default 1 MiB); a longer one is refused. */
    configMaxResponseBytes: z.coerce.number().int().min(1).optional(),
    /** A system-map file read in-process instead of asking a configuration service. */
    map: z.string().min(1).optional(),
    transport: z.enum(['memory', 'amqp']).default('memory'),
    /** Memory transport: messages one queue holds before senders wait (or are refused). Default 100000. */
    memoryQueueMaxLength: z.coerce.number().int().min(1).optional(),
    /** Memory transport: body bytes one queue holds before senders wait (or are refused). Default 64 MiB. */
    memoryQueueMaxBytes: z.coerce.number().int().min(1).optional(),
    /** Memory transport, past the bound: back-pressure (senders wait, the default) or reject-publish (refused). */
    memoryQueueOverflow: z.enum(['back-pressure', 'reject-publish']).optional(),
    /** amqp://user@host:port/vhost; default: from the configuration service's /rabbitmq. */
    amqpUrl: z.string().regex(/^amqps?:\/\//, 'must start with amqp:// or amqps://').optional(),
    /** Secret reference (pass:NAME, env:NAME, file:PATH) for the password amqpUrl lacks. */
    amqpPassword: z.string().min(1).optional(),
    /**
     * How a worker declares the queues its configuration (map or service) says nothing
     * about: durable or not. Unset: existing queues are used as they are and missing ones
     * are declared as slingshot declares them (non-durable).
     */
    queueDurable: booleanSetting.optional(),
    /** Declaration arguments for those queues (e.g. {"x-queue-type": "quorum"}); JSON text in flags and env. */
    queueArguments: jsonObjectSetting.optional(),
    storage: z.enum(['fs', 's3']).default('fs'),
    /** S3 endpoint URL; default: https://{host} from the configuration service's /object-storage. */
    s3Endpoint: z.string().url().optional(),
    s3Region: z.string().min(1).default('garage'),
    /** Secret references for the S3 keys when s3Endpoint is given. */
    s3AccessKey: z.string().min(1).optional(),
    s3SecretKey: z.string().min(1).optional(),
    /** Folder of the fs store; default {stateDir}/storage. */
    storageDir: z.string().min(1).optional(),
    /** Parent of the per-message staging folders; default the OS temp folder. */
    stagingDir: z.string().min(1).optional(),
    /** Bytes of one output staged in memory before it spills to a staging file; 0 = always a file. */
    stagingMemoryBytes: z.coerce.number().int().min(0).default(1024 * 1024),
    /** Where a running process leaves what other commands need (inbox address, storage). */
    stateDir: z.string().min(1).default('.switchyard'),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    metricsPort: z.coerce.number().int().min(0).max(65535).optional(),
    /** Bus configuration (YAML/JSON path or http(s) URL) for API services; default: the embedded memory bus. */
    busConfig: z.string().min(1).optional(),
    /** Overrides the bus configuration's service_name / process_name. */
    serviceName: z.string().min(1).optional(),
    processName: z.string().min(1).optional(),
  })
  .strict();

export type Settings = z.infer<typeof settingsSchema>;
type Key = keyof Settings;
const KEYS = Object.keys(settingsSchema.shape) as Key[];

/** SWITCHYARD_CONFIG_HOST ↔ configHost, and so on. */
export function envName(key: Key): string {
  return `SWITCHYARD_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** Merges the sources and checks the result; flags are commander's camelCase options. */
export function loadSettings(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Settings {
  const file = (flags.settings as string | undefined) ?? env.SWITCHYARD_SETTINGS;
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  if (file) {
    for (const [key, value] of Object.entries(readSettingsFile(file))) {
      merged[key] = value;
      origin[key] = `settings file ${file}`;
    }
  }
  for (const key of KEYS) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') {
      merged[key] = value;
      origin[key] = `environment variable ${envName(key)}`;
    }
  }
  for (const key of KEYS) {
    if (flags[key] !== undefined) {
      merged[key] = flags[key];
      origin[key] = `flag --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    }
  }
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const from = origin[key] ? ` (from ${origin[key]})` : '';
      return issue.code === 'unrecognized_keys'
        ? `unknown setting(s) ${issue.keys.join(', ')}; known: ${KEYS.join(', ')}`
        : `${key}${from}: ${issue.message}`;
    });
    throw new errors.SY_ERR_SETTINGS(problems.join('; '));
  }
  return parsed.data;
}

/** The queue declaration the settings give (queueDurable / queueArguments), or undefined when they give none. */
export function queueDefaultsOf(settings: Settings): { durable: boolean; arguments: Record<string, unknown> } | undefined {
  if (settings.queueDurable === undefined && settings.queueArguments === undefined) return undefined;
  // Fields left out take slingshot's flags, as in a system map.
  return { durable: settings.queueDurable ?? false, arguments: { ...settings.queueArguments } };
}

/** The memory transport's queue bounds the settings give (defaults apply to what they leave out). */
export function memoryTransportOptionsOf(settings: Settings): MemoryTransportOptions {
  return {
    ...(settings.memoryQueueMaxLength !== undefined ? { maxLength: settings.memoryQueueMaxLength } : {}),
    ...(settings.memoryQueueMaxBytes !== undefined ? { maxBytes: settings.memoryQueueMaxBytes } : {}),
    ...(settings.memoryQueueOverflow !== undefined ? { overflow: settings.memoryQueueOverflow } : {}),
  };
}

export function storageDirOf(settings: Settings): string {
  return resolve(settings.storageDir ?? `${settings.stateDir}/storage`);
}

/** A settings file's content (YAML or JSON mapping); SY_ERR_SETTINGS when it cannot be read or is not a mapping. */
export function readSettingsFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new errors.SY_ERR_SETTINGS(`cannot read settings file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new errors.SY_ERR_SETTINGS(`settings file ${file} is not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new errors.SY_ERR_SETTINGS(`settings file ${file} must hold a mapping of setting: value`);
  return data as Record<string, unknown>;
}
