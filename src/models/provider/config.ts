// Provider configuration (SPECS.md §4.6): the original's keys, from (strongest first)
// flags, SWITCHYARD_PROVIDER_* environment variables, a JSON config file, defaults.
// Times are seconds as in the original (fractions allowed here); validate() names the key.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errors, redactUrl } from '../../errors.js';
import { validateLevel } from '../../observability/logger.js';
import { outboundAllowList } from '../../runtime/outbound-allow-list.js';

export interface TaskConfigData {
  /** Registration priority: a higher number is preferred by the coordinator client. */
  priority?: number;
  /** Handler time limit in seconds; 0 = no limit. */
  timeout?: number;
}

export interface ProviderConfigData {
  /** Base folder of task sockets. Default /tmp/mistify (the original's). */
  socket_dir: string;
  /** The name the provider registers as: part of every socket file name. Required. */
  service_name: string;
  /** Where requests this provider originates go (unix:// or http(s)://). Optional here: without it they go through the built-in coordinator client. */
  coordinator_url?: string | undefined;
  /** Priority of tasks without their own. Default 50. */
  default_priority: number;
  /** trace, debug, info, warn(ing), error, fatal, silent. Default warning. */
  log_level: string;
  /** Handler time limit in seconds for tasks without their own; 0 = no limit. Default 60. */
  default_timeout: number;
  /** How long a request this provider originates waits for its response, seconds; 0 = 60 (the original's tracker default). */
  request_timeout: number;
  /** Largest acomm frame body accepted, bytes. Default 16 MiB. */
  max_frame_bytes: number;
  /** File mode of the sockets, octal text. Default "0660". */
  socket_mode: string;
  /**
   * Where responses may be sent: hosts, *.suffix, host:port, IPs, CIDRs, unix:/folder
   * (runtime/outbound-allow-list.ts). Empty (default) = any response hook, as the original.
   * A list, or one comma-separated string (flags, environment).
   */
  response_hook_allow: string[] | string;
  /** Stream sockets announced and not yet read, at most; past it a stream answer is refused. Default 256. */
  max_open_streams: number;
  /** How long a stream socket waits for its reader, seconds; 0 = forever (the original). Default 60. */
  stream_idle_timeout: number;
  tasks: Record<string, TaskConfigData>;
}

export const DEFAULTS: Readonly<Omit<ProviderConfigData, 'service_name' | 'tasks'>> = {
  socket_dir: '/tmp/mistify',
  coordinator_url: undefined,
  default_priority: 50,
  log_level: 'warning',
  default_timeout: 60,
  request_timeout: 0,
  max_frame_bytes: 16 * 1024 * 1024,
  socket_mode: '0660',
  response_hook_allow: [],
  max_open_streams: 256,
  stream_idle_timeout: 60,
};

/** Keys settable by flag and environment variable (tasks only by file or code). */
export const SCALAR_KEYS = [
  'socket_dir', 'service_name', 'coordinator_url', 'default_priority', 'log_level', 'default_timeout', 'request_timeout', 'max_frame_bytes', 'socket_mode',
  'response_hook_allow', 'max_open_streams', 'stream_idle_timeout',
] as const;
export type ScalarKey = (typeof SCALAR_KEYS)[number];
const NUMBER_KEYS = new Set<string>(['default_priority', 'default_timeout', 'request_timeout', 'max_frame_bytes', 'max_open_streams', 'stream_idle_timeout']);

/** The flags the Go provider defines (pflag, with these underscore names); `switchyard provider run` takes them too. */
export const GO_FLAG_KEYS = ['config_file', 'service_name', 'socket_dir', 'default_priority', 'coordinator_url', 'log_level', 'request_timeout'] as const;

/** socket_dir ↔ SWITCHYARD_PROVIDER_SOCKET_DIR, and so on; the file is SWITCHYARD_PROVIDER_CONFIG_FILE. */
export function providerEnvName(key: ScalarKey | 'config_file'): string {
  return `SWITCHYARD_PROVIDER_${key.toUpperCase()}`;
}

/** Folder names under socket_dir the provider itself uses; no task may take them. */
export const RESERVED_DIRS = ['response', 'streams'] as const;

export type ProviderConfigInput = Partial<Omit<ProviderConfigData, 'tasks'>> & { tasks?: Record<string, TaskConfigData> };

export class ProviderConfig {
  readonly data: Readonly<ProviderConfigData>;

  constructor(input: ProviderConfigInput) {
    this.data = { ...DEFAULTS, service_name: '', tasks: {}, ...stripUndefined(input) } as ProviderConfigData;
  }

  get socketDir(): string {
    return resolve(this.data.socket_dir);
  }
  get serviceName(): string {
    return this.data.service_name;
  }
  get coordinatorUrl(): string | undefined {
    return this.data.coordinator_url || undefined;
  }
  get logLevel(): string {
    return validateLevel(this.data.log_level, 'log_level');
  }
  get maxFrameBytes(): number {
    return this.data.max_frame_bytes;
  }
  get socketMode(): number {
    return parseInt(String(this.data.socket_mode), 8);
  }
  /** response_hook_allow as a list (a comma-separated string split); empty = any hook. */
  get responseHookAllow(): string[] {
    const v = this.data.response_hook_allow;
    return (Array.isArray(v) ? v : String(v ?? '').split(',')).map((e) => e.trim()).filter((e) => e !== '');
  }
  get maxOpenStreams(): number {
    return this.data.max_open_streams;
  }
  /** The stream sockets' wait for a reader, ms; 0 = none. */
  get streamIdleMs(): number {
    return this.data.stream_idle_timeout * 1000;
  }
  /** The tracker's wait for responses: request_timeout, or 1 minute when 0 (the original's rule). */
  get requestTimeoutMs(): number {
    return this.data.request_timeout > 0 ? this.data.request_timeout * 1000 : 60_000;
  }
  taskPriority(task: string): number {
    return this.data.tasks[task]?.priority ?? this.data.default_priority;
  }
  /** The handler's time limit in ms; 0 = none. */
  taskTimeoutMs(task: string): number {
    return (this.data.tasks[task]?.timeout ?? this.data.default_timeout) * 1000;
  }
  /** {socket_dir}/{task}/{priority}-{service_name}.sock: priority not zero-padded, as in the original. */
  taskSocketPath(task: string): string {
    return join(this.socketDir, task, `${this.taskPriority(task)}-${this.serviceName}.sock`);
  }
  /** {socket_dir}/streams/{task}/{service_name}: where single-use stream sockets go. */
  streamDir(task: string): string {
    return join(this.socketDir, 'streams', task, this.serviceName);
  }
  /** {socket_dir}/response/{service_name}.sock: the tracker's response hook. */
  get responseSocketPath(): string {
    return join(this.socketDir, 'response', `${this.serviceName}.sock`);
  }

  /** Throws SY_ERR_PROVIDER_CONFIG naming the first key that is wrong and how to fix it. */
  validate(): this {
    const d = this.data;
    const bad = (key: string, why: string, fix: string) => new errors.SY_ERR_PROVIDER_CONFIG(key, why, fix);
    const flag = (key: string) => `set --${key.replace(/_/g, '-')} or ${providerEnvName(key as ScalarKey)}, or "${key}" in the config file`;
    if (typeof d.socket_dir !== 'string' || d.socket_dir === '') throw bad('socket_dir', 'is missing', flag('socket_dir'));
    if (typeof d.service_name !== 'string' || d.service_name === '') throw bad('service_name', 'is missing', flag('service_name'));
    if (!isPathName(d.service_name)) throw bad('service_name', `is ${JSON.stringify(d.service_name)}, which cannot be part of a file name`, 'use letters, digits, ".", "_" and "-" only');
    if (d.coordinator_url) {
      let scheme = '';
      try {
        scheme = new URL(d.coordinator_url).protocol;
      } catch {
        // reported below
      }
      if (!['unix:', 'http:', 'https:'].includes(scheme)) throw bad('coordinator_url', `is ${JSON.stringify(redactUrl(d.coordinator_url))}, not a unix:// or http(s):// URL`, 'e.g. unix:///tmp/mistify/coordinator/coordinator.sock');
    }
    checkNumber('default_priority', d.default_priority, true);
    checkNumber('default_timeout', d.default_timeout, false);
    checkNumber('request_timeout', d.request_timeout, false);
    checkNumber('max_frame_bytes', d.max_frame_bytes, true, 1);
    checkNumber('max_open_streams', d.max_open_streams, true, 1);
    checkNumber('stream_idle_timeout', d.stream_idle_timeout, false);
    const allow = d.response_hook_allow;
    if (typeof allow !== 'string' && !(Array.isArray(allow) && allow.every((e) => typeof e === 'string'))) {
      throw bad('response_hook_allow', `is ${JSON.stringify(allow)}`, 'give a list of strings, e.g. ["unix:/tmp/mistify", "10.0.0.0/8", "hooks.example.com"]');
    }
    try {
      outboundAllowList(this.responseHookAllow, 'response_hook_allow');
    } catch (err) {
      throw bad('response_hook_allow', `has an entry that cannot be used (${(err as Error).message})`, 'fix or remove that entry');
    }
    if (!/^0?[0-7]{3}$/.test(String(d.socket_mode))) throw bad('socket_mode', `is ${JSON.stringify(d.socket_mode)}, not an octal file mode`, 'use e.g. "0660" or "0600"');
    try {
      validateLevel(d.log_level, 'log_level');
    } catch {
      throw bad('log_level', `is ${JSON.stringify(d.log_level)}`, 'use one of trace, debug, info, warning, error, fatal, silent');
    }
    if (d.tasks === null || typeof d.tasks !== 'object' || Array.isArray(d.tasks)) throw bad('tasks', 'is not an object', 'use {"TaskName": {"priority": 60, "timeout": 30}}');
    for (const [task, t] of Object.entries(d.tasks)) {
      if (t === null || typeof t !== 'object' || Array.isArray(t)) throw bad(`tasks.${task}`, 'is not an object', 'use {"priority": 60, "timeout": 30}');
      const unknown = Object.keys(t).filter((k) => k !== 'priority' && k !== 'timeout');
      if (unknown.length) throw bad(`tasks.${task}.${unknown[0]}`, 'is not a task setting', 'use only "priority" and "timeout"');
      if (t.priority !== undefined) checkNumber(`tasks.${task}.priority`, t.priority, true);
      if (t.timeout !== undefined) checkNumber(`tasks.${task}.timeout`, t.timeout, false);
    }
    return this;
  }
}

/** A task or service name usable as a file or folder name. */
export function isPathName(name: string): boolean {
  return /^[A-Za-z0-9._-]{1,100}$/.test(name) && name !== '.' && name !== '..';
}

function checkNumber(key: string, value: unknown, integer: boolean, min = 0): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new errors.SY_ERR_PROVIDER_CONFIG(key, `is ${JSON.stringify(value)}`, `use ${integer ? 'a whole number' : 'a number'} ≥ ${min}${integer ? '' : ' (seconds)'}`);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface LoadOptions {
  /** Config file path (JSON); default from SWITCHYARD_PROVIDER_CONFIG_FILE. */
  readonly configFile?: string | undefined;
  /** Flag values by config key (strings from a command line are converted). */
  readonly flags?: Partial<Record<ScalarKey, string | number | undefined>>;
  readonly env?: NodeJS.ProcessEnv;
  /** Values set in code, weaker than the file (e.g. a default service name). */
  readonly defaults?: ProviderConfigInput;
}

/** Merges defaults, the config file, environment and flags, then validates. */
export function loadProviderConfig(options: LoadOptions = {}): ProviderConfig {
  const env = options.env ?? process.env;
  const file = options.configFile ?? env[providerEnvName('config_file')];
  let fromFile: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new errors.SY_ERR_PROVIDER_CONFIG('config_file', `${JSON.stringify(file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'check the path');
    }
    try {
      fromFile = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new errors.SY_ERR_PROVIDER_CONFIG('config_file', `${JSON.stringify(file)} is not JSON (${(err as Error).message})`, 'fix the file');
    }
    if (fromFile === null || typeof fromFile !== 'object' || Array.isArray(fromFile)) {
      throw new errors.SY_ERR_PROVIDER_CONFIG('config_file', `${JSON.stringify(file)} does not hold a JSON object`, 'write {"service_name": "...", ...}');
    }
    const known = new Set<string>([...SCALAR_KEYS, 'tasks', 'config_file']);
    const unknown = Object.keys(fromFile).find((k) => !known.has(k));
    if (unknown) throw new errors.SY_ERR_PROVIDER_CONFIG(unknown, `in ${file} is not a provider setting`, `use only ${[...known].join(', ')}`);
    delete fromFile.config_file;
  }
  const merged: Record<string, unknown> = { ...stripUndefined(options.defaults ?? {}), ...fromFile };
  for (const key of SCALAR_KEYS) {
    const fromEnv = env[providerEnvName(key)];
    if (fromEnv !== undefined && fromEnv !== '') merged[key] = fromEnv;
    const fromFlag = options.flags?.[key];
    if (fromFlag !== undefined) merged[key] = fromFlag;
    if (NUMBER_KEYS.has(key) && typeof merged[key] === 'string') {
      const text = (merged[key] as string).trim();
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) throw new errors.SY_ERR_PROVIDER_CONFIG(key, `is ${JSON.stringify(merged[key])}, not a number`, `give a number for ${key}`);
      merged[key] = n;
    }
  }
  return new ProviderConfig(merged as ProviderConfigInput).validate();
}
