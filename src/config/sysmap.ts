// The system map: one YAML or JSON file that says, for every service, which queue it reads,
// where each routing case sends results, and which bucket each alias names; plus the
// broker and object-storage endpoints. It is what slingshot's configuration service
// (SPECS.md §1.2-1.4) serves, kept in a file so a whole system can run without that
// service: in-process through MapConfigSource, or over HTTP through config-server.ts.
//
// Validation reports every problem at once, each with its path and line, because a user
// fixing a map one error per run is slow; shape checks are zod's, the checks that look
// across fields (typed duplicate cases, aliases against declared buckets, names) are below.

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { errors } from '../errors.js';
import {
  SLINGSHOT_QUEUE_FLAGS,
  type CaseValue, type ConfigSource, type ObjectStorageEndpoint, type OutboundCase, type QueueConfig, type QueueDeclaration, type RabbitMqEndpoint,
} from './config-source.js';
import { caseKey, checkParsedCase, normalizeInt } from './case-value.js';
import {
  issueToProblems, parseExact, problem, sortedTexts, type ParsedText, type PathKey, type Problem,
} from './exact-parse.js';

export interface SysMapService {
  readonly name: string;
  readonly in: string;
  readonly out: readonly OutboundCase[];
  /** alias → bucket name */
  readonly buckets: ReadonlyMap<string, string>;
}

export type { QueueDeclaration } from './config-source.js';

export interface SysMap {
  /** The file the map came from, for messages. */
  readonly file: string;
  readonly services: ReadonlyMap<string, SysMapService>;
  /** The declared buckets, or undefined when the map does not declare them. */
  readonly buckets: readonly string[] | undefined;
  /**
   * Flags of every queue the map does not list, or undefined when the map gives none (then
   * the process's settings decide, or existing queues are used as they are).
   */
  readonly queueDefaults: QueueDeclaration | undefined;
  readonly queues: ReadonlyMap<string, QueueDeclaration>;
  readonly rabbitmq: RabbitMqEndpoint | undefined;
  readonly objectStorage: ObjectStorageEndpoint | undefined;
}

/** Paths the configuration service answers itself, so no service may take these names. */
export const RESERVED_SERVICE_NAMES: readonly string[] = ['rabbitmq', 'object-storage', 'db', 'queue-declarations'];

// ---------------------------------------------------------------- names

/**
 * Why a name is unusable, or undefined. The rule matches SY_ERR_BAD_NAME (1-255
 * characters, no whitespace or control characters) so a name that passes here passes the
 * transports too. `__proto__` is refused because it cannot be a key of a plain object.
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty; give it a name';
  if (name.length > 255) return `is ${name.length} characters long; use at most 255`;
  if (/[\s\p{Cc}]/u.test(name)) return `${JSON.stringify(name)} contains whitespace or control characters`;
  if (name === '__proto__') return '"__proto__" is not allowed as a name';
  return undefined;
}

const name = z.string().superRefine((s, ctx) => {
  const p = nameProblem(s);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

const nonEmpty = z.string().superRefine((s, ctx) => {
  if (s.trim() === '') ctx.addIssue({ code: 'custom', message: 'is empty' });
});

/** A strict object whose unknown-key message lists the keys that are allowed (typos are the usual cause). */
function strict<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key; expected one of: ${known}` : undefined),
  });
}

// ---------------------------------------------------------------- shape (zod)

// Integers arrive as bigint (parseExact), so numeric fields take bigint and convert.
const port = z.bigint().superRefine((n, ctx) => {
  if (n < 1n || n > 65535n) ctx.addIssue({ code: 'custom', message: `${n} is not a TCP port; use 1-65535` });
}).transform((n) => Number(n));

const serviceSchema = strict({
  in: name,
  // Cases are judged in crossCheck, where the source text ("2.0") is at hand.
  out: z.array(strict({ case: z.unknown().optional(), queues: z.array(name).min(1) })).optional(),
  buckets: z.record(z.string(), name).optional(),
});

const sysMapSchema = strict({
  services: z.record(z.string(), serviceSchema),
  buckets: z.array(name).optional(),
  queueDefaults: strict({
    durable: z.boolean().optional(),
    arguments: z.record(z.string(), z.unknown()).optional(),
  }).optional(),
  queues: z.record(z.string(), strict({
    durable: z.boolean().optional(),
    arguments: z.record(z.string(), z.unknown()).optional(),
  })).optional(),
  rabbitmq: strict({ host: nonEmpty, port: port.optional(), username: nonEmpty, pass: nonEmpty }).optional(),
  'object-storage': strict({ host: nonEmpty, 'access-key': nonEmpty, 'secret-key': nonEmpty }).optional(),
});

type RawSysMap = z.output<typeof sysMapSchema>;

// ---------------------------------------------------------------- cross-field checks

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Checks zod cannot express per field. Works on the raw data and skips anything whose
 * shape is wrong (zod reports that), so it can run even when zod found problems.
 */
function crossCheck(raw: unknown, parsed: ParsedText): Problem[] {
  const problems: Problem[] = [];
  const add = (path: PathKey[], what: string) => { problems.push(problem(path, what, parsed.lineOf)); };
  if (!isRecord(raw)) return problems;

  const declared = Array.isArray(raw.buckets) ? raw.buckets.filter((b): b is string => typeof b === 'string') : undefined;
  if (declared) {
    const seen = new Set<string>();
    declared.forEach((b, i) => {
      if (seen.has(b)) add(['buckets', i], `bucket ${JSON.stringify(b)} is declared twice`);
      seen.add(b);
    });
  }

  if (isRecord(raw.queues)) {
    for (const q of Object.keys(raw.queues)) {
      const p = nameProblem(q);
      if (p) add(['queues', q], `queue name ${p}`);
    }
  }

  if (!isRecord(raw.services)) return problems;
  for (const [service, body] of Object.entries(raw.services)) {
    const base: PathKey[] = ['services', service];
    const p = nameProblem(service);
    if (p) add(base, `service name ${p}`);
    else if (service.includes('/')) add(base, `service name ${JSON.stringify(service)} contains "/"; it is one segment of a URL path`);
    if (RESERVED_SERVICE_NAMES.includes(service)) {
      add(base, `"${service}" is a reserved endpoint name (${RESERVED_SERVICE_NAMES.join(', ')}); rename the service`);
    }
    if (!isRecord(body)) continue;

    if (Array.isArray(body.out)) {
      // Typed keys: true, 1 and "1" differ (caseKey), so only a true repeat is reported.
      const firstAt = new Map<string, number>();
      body.out.forEach((route, i) => {
        if (!isRecord(route)) return;
        const path = [...base, 'out', i, 'case'];
        const check = checkParsedCase(route.case, parsed.sourceAt(path));
        if (!check.ok) return add(path, check.problem);
        const key = caseKey(check.value)!;
        const first = firstAt.get(key);
        if (first !== undefined) {
          add(path, `case ${describeCase(check.value)} is already routed by out[${first}]; merge their queue lists into one entry`);
        } else firstAt.set(key, i);
      });
    }

    if (isRecord(body.buckets)) {
      for (const [alias, bucket] of Object.entries(body.buckets)) {
        const path = [...base, 'buckets', alias];
        const ap = nameProblem(alias);
        if (ap) add(path, `alias ${ap}`);
        else if (alias.startsWith('/') || alias.endsWith('/')) {
          add(path, `alias ${JSON.stringify(alias)} starts or ends with "/", which look-ups trim; remove it`);
        }
        if (declared && typeof bucket === 'string' && !declared.includes(bucket)) {
          add(path, `alias "${alias}" points to unknown bucket ${JSON.stringify(bucket)}; declared buckets: ${[...new Set(declared)].map((b) => JSON.stringify(b)).join(', ') || 'none'}; add it to "buckets" or fix the name`);
        }
      }
    }
  }
  return problems;
}

function describeCase(v: CaseValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'bigint' ? v.toString() : String(v);
}

// ---------------------------------------------------------------- building the map

/** Queue arguments go to the broker as numbers where exact; bigints only when they must. */
function normalizeArgs(v: unknown): unknown {
  if (typeof v === 'bigint') return normalizeInt(v);
  if (Array.isArray(v)) return v.map(normalizeArgs);
  // Object.fromEntries defines properties, so even an odd key cannot touch a prototype.
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalizeArgs(x)]));
  return v;
}

function build(file: string, m: RawSysMap): SysMap {
  const services = new Map<string, SysMapService>();
  for (const [svc, body] of Object.entries(m.services)) {
    services.set(svc, {
      name: svc,
      in: body.in,
      out: (body.out ?? []).map((r) => {
        const check = checkParsedCase(r.case);
        if (!check.ok) throw new Error(`unreachable: case passed crossCheck: ${check.problem}`);
        return { case: check.value, queues: [...r.queues] };
      }),
      buckets: new Map(Object.entries(body.buckets ?? {})),
    });
  }
  // A map that says nothing about queue flags leaves them to the process's settings or, at
  // last, to whatever already exists on the broker (slingshot declares its queues
  // non-durable, and a queue is shared only if both sides declare it alike). Fields a
  // declaration leaves out take slingshot's flags, the base every shared queue starts from.
  const queueDefaults: QueueDeclaration | undefined = m.queueDefaults && {
    durable: m.queueDefaults.durable ?? SLINGSHOT_QUEUE_FLAGS.durable,
    arguments: normalizeArgs(m.queueDefaults.arguments ?? {}) as Record<string, unknown>,
  };
  const base = queueDefaults ?? SLINGSHOT_QUEUE_FLAGS;
  const queues = new Map<string, QueueDeclaration>();
  for (const [q, d] of Object.entries(m.queues ?? {})) {
    queues.set(q, {
      durable: d.durable ?? base.durable,
      arguments: { ...base.arguments, ...(normalizeArgs(d.arguments ?? {}) as Record<string, unknown>) },
    });
  }
  const r = m.rabbitmq;
  const o = m['object-storage'];
  return {
    file,
    services,
    buckets: m.buckets ? [...m.buckets] : undefined,
    queueDefaults,
    queues,
    rabbitmq: r ? { host: r.host, port: r.port ?? 5672, username: r.username, passwordRef: r.pass } : undefined,
    objectStorage: o ? { host: o.host, accessKeyRef: o['access-key'], secretKeyRef: o['secret-key'] } : undefined,
  };
}

// ---------------------------------------------------------------- entry points

/** Parses and validates system-map text; `fileLabel` names it in messages (".json" selects strict JSON). */
export function parseSysMap(text: string, fileLabel: string): SysMap {
  const parsed = parseExact(text, { json: /\.json$/i.test(fileLabel) });
  if (parsed.syntaxProblems.length > 0) throw new errors.SY_ERR_SYSMAP_INVALID(fileLabel, parsed.syntaxProblems);
  if (parsed.data === null || parsed.data === undefined) {
    throw new errors.SY_ERR_SYSMAP_INVALID(fileLabel, ['the file is empty; it needs at least a "services:" mapping']);
  }
  const result = sysMapSchema.safeParse(parsed.data);
  const problems = sortedTexts([
    ...(result.success ? [] : result.error.issues.flatMap((iss) => issueToProblems(iss, parsed.data, parsed.lineOf))),
    ...crossCheck(parsed.data, parsed),
  ]);
  if (problems.length > 0 || !result.success) throw new errors.SY_ERR_SYSMAP_INVALID(fileLabel, problems);
  return build(fileLabel, result.data);
}

/** Reads and validates a system-map file (YAML or JSON). */
export async function loadSysMap(path: string): Promise<SysMap> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'the file does not exist; check the path' : `the file cannot be read (${code ?? String(err)})`;
    throw new errors.SY_ERR_SYSMAP_INVALID(path, [why]);
  }
  return parseSysMap(text, path);
}

// ---------------------------------------------------------------- look-ups

function serviceOf(map: SysMap, service: string): SysMapService {
  const s = map.services.get(service);
  if (!s) throw new errors.SY_ERR_CONFIG_UNKNOWN(`system map ${map.file}`, 'service', service, [...map.services.keys()]);
  return s;
}

/** What GET {host}/{service} would answer. */
export function queueConfigOf(map: SysMap, service: string): QueueConfig {
  const s = serviceOf(map, service);
  return { in: s.in, out: s.out };
}

/** The bucket an alias names. The alias is trimmed of "/" like slingshot's read_file/write_file key. */
export function bucketOf(map: SysMap, service: string, alias: string): string {
  const s = serviceOf(map, service);
  const key = trimSlashes(alias);
  const bucket = s.buckets.get(key);
  if (bucket === undefined) {
    throw new errors.SY_ERR_CONFIG_UNKNOWN(`service "${service}" in system map ${map.file}`, 'bucket alias', key, [...s.buckets.keys()]);
  }
  return bucket;
}

/**
 * Declaration flags for a queue: its own entry, else the map's queueDefaults, else
 * undefined (the map says nothing about it).
 */
export function queueDeclarationOf(map: SysMap, queue: string): QueueDeclaration | undefined {
  return map.queues.get(queue) ?? map.queueDefaults;
}

/** Whether the map says anything at all about how queues are declared. */
export function declaresQueues(map: SysMap): boolean {
  return map.queueDefaults !== undefined || map.queues.size > 0;
}

export function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, '');
}

function endpointsOf(map: SysMap): string[] {
  return [...(map.rabbitmq ? ['rabbitmq'] : []), ...(map.objectStorage ? ['object-storage'] : [])];
}

/** Configuration straight from a system map, in-process: what the HTTP client would get, without HTTP. */
export class MapConfigSource implements ConfigSource {
  constructor(readonly map: SysMap) {}

  async queueConfig(service: string): Promise<QueueConfig> {
    return queueConfigOf(this.map, service);
  }

  async bucket(service: string, alias: string): Promise<string> {
    return bucketOf(this.map, service, alias);
  }

  async queueDeclaration(queue: string): Promise<QueueDeclaration | undefined> {
    return queueDeclarationOf(this.map, queue);
  }

  async rabbitmq(): Promise<RabbitMqEndpoint> {
    if (!this.map.rabbitmq) throw new errors.SY_ERR_CONFIG_UNKNOWN(`system map ${this.map.file}`, 'endpoint', 'rabbitmq', endpointsOf(this.map));
    return this.map.rabbitmq;
  }

  async objectStorage(): Promise<ObjectStorageEndpoint> {
    if (!this.map.objectStorage) throw new errors.SY_ERR_CONFIG_UNKNOWN(`system map ${this.map.file}`, 'endpoint', 'object-storage', endpointsOf(this.map));
    return this.map.objectStorage;
  }
}
