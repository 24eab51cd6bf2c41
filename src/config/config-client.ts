// The client side of slingshot's configuration service (SPECS.md §1.1-1.4, §1.6). Each
// answer is checked the way slingshot's serde structs check it, so a map that would stop
// slingshot also stops us, with a message that names the field.
//
// Differences from slingshot, on purpose: the rabbitmq and object-storage URLs default to
// {base}/rabbitmq and {base}/object-storage instead of the hard-coded
// https://sys-map.slingshot.cv (set rabbitmqUrl/objectStorageUrl to get that back), and
// bucket look-ups are cached per (service, alias) rather than per alias.

import { z } from 'zod';
import { SwitchyardError, errors, redactUrl } from '../errors.js';
import type { ConfigSource, ObjectStorageEndpoint, QueueConfig, QueueDeclaration, RabbitMqEndpoint } from './config-source.js';
import { checkParsedCase } from './case-value.js';
import { issueToProblems, parseExact, problem, sortedTexts, type ParsedText, type PathKey } from './exact-parse.js';
import { trimSlashes } from './sysmap.js';

export interface HttpConfigSourceOptions {
  /** A bare host ("sys-map.example") means https://host; a value starting with http:// or https:// is used as the base. */
  host: string;
  /** Default {base}/rabbitmq; slingshot hard-codes https://sys-map.slingshot.cv/rabbitmq. */
  rabbitmqUrl?: string;
  /** Default {base}/object-storage; slingshot hard-codes https://sys-map.slingshot.cv/object-storage. */
  objectStorageUrl?: string;
  /** Per request; default 10000. */
  timeoutMs?: number;
  /**
   * Most bytes of an answer read; a longer one is refused (SY_ERR_LIMIT_EXCEEDED) and the
   * rest never read. Default 1 MiB: queue configs, bucket names and endpoints are small.
   */
  maxResponseBytes?: number;
  /** Default the global fetch; tests pass a counting wrapper. */
  fetch?: typeof fetch;
}

function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}

/** slingshot's config_url: `{host without trailing /}/{name}` for http(s) hosts, else `https://{host}/{name}`. */
export function configUrl(host: string, name: string): string {
  return `${baseUrl(host)}/${name}`;
}

function baseUrl(host: string): string {
  // slingshot trims trailing "/" only for http(s) hosts; trimming a bare host too avoids a "//".
  const h = host.replace(/\/+$/, '');
  return /^https?:\/\//.test(h) ? h : `https://${h}`;
}

/** Path segments percent-encoded one by one, so an alias "a/b" keeps its "/". */
function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

// ---------------------------------------------------------------- response shapes (zod)

const queueConfigSchema = z.object({
  in: z.string().min(1),
  // Cases are judged by checkParsedCase afterwards, where the literal ("2.0") is at hand.
  out: z.array(z.object({ case: z.unknown().optional(), queues: z.array(z.string().min(1)) })),
});

/** Vec<T> with slingshot's single_value rule: exactly one element. */
function single<T extends z.ZodType>(field: string, item: T) {
  return z.array(item).superRefine((a, ctx) => {
    if (a.length !== 1) ctx.addIssue({ code: 'custom', message: `sys-map field '${field}' must contain exactly one value, got ${a.length}` });
  }).transform((a) => a[0] as z.output<T>);
}

/** Integers arrive as bigint from the exact parser; broker arguments want numbers. */
function plainNumbers(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(plainNumbers);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainNumbers(v)]));
  return value;
}

const declarationSchema = z.object({
  durable: z.boolean(),
  arguments: z.record(z.string(), z.unknown()).transform((a) => plainNumbers(a) as Record<string, unknown>),
});
const declarationsSchema = z.object({
  defaults: declarationSchema.nullable().optional(),
  queues: z.record(z.string(), declarationSchema).optional(),
});

interface Declarations {
  readonly defaults: QueueDeclaration | undefined;
  readonly queues: ReadonlyMap<string, QueueDeclaration>;
}

const NO_DECLARATIONS: Declarations = { defaults: undefined, queues: new Map() };

const nonEmpty = z.string().min(1);
// RabbitMqConfig.port is Vec<u16>; integers arrive as bigint (parseExact).
const u16 = z.bigint().refine((n) => n >= 0n && n <= 65535n, { message: 'is not a port number (0-65535)' }).transform(Number);

const rabbitSchema = z.object({
  host: single('host', nonEmpty),
  port: single('port', u16),
  username: single('username', nonEmpty),
  pass: single('pass', nonEmpty),
});

const objectStorageSchema = z.object({
  host: single('host', nonEmpty),
  'pass:access-key': single('pass:access-key', nonEmpty),
  'pass:secret-key': single('pass:secret-key', nonEmpty),
});

// ---------------------------------------------------------------- client

export class HttpConfigSource implements ConfigSource {
  readonly base: string;
  readonly rabbitmqUrl: string;
  readonly objectStorageUrl: string;
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #fetch: typeof fetch;
  // Buckets never change for the life of a process (§1.6), so each is asked for once.
  readonly #buckets = new Map<string, string>();
  // Concurrent first look-ups share one request; an entry is removed when it settles, so a
  // failure is not remembered and the next call asks again.
  readonly #inFlight = new Map<string, Promise<string>>();

  constructor(opts: HttpConfigSourceOptions) {
    if (!opts.host || opts.host.trim() === '') throw new errors.SY_ERR_SETTINGS('the configuration service host is empty; give a host name or an http(s):// URL');
    this.base = baseUrl(opts.host.trim());
    this.rabbitmqUrl = opts.rabbitmqUrl ?? `${this.base}/rabbitmq`;
    this.objectStorageUrl = opts.objectStorageUrl ?? `${this.base}/object-storage`;
    for (const [what, url] of [['host', this.base], ['rabbitmqUrl', this.rabbitmqUrl], ['objectStorageUrl', this.objectStorageUrl]] as const) {
      // fetch refuses such URLs with a message that repeats them, password included.
      if (hasCredentials(url)) throw new errors.SY_ERR_SETTINGS(`the configuration service ${what} ${redactUrl(url)} carries a user name or password; remove the user:password@ part (the configuration service is read without credentials)`);
    }
    this.#timeoutMs = opts.timeoutMs ?? 10_000;
    this.#maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#fetch = opts.fetch ?? globalThis.fetch;
  }

  /** GET {base}/{service}. Not cached: it is read once, when a service starts. */
  async queueConfig(service: string): Promise<QueueConfig> {
    const url = `${this.base}/${encodeURIComponent(service)}`;
    const parsed = parseJsonBody(url, await this.#get(url));
    const data = validate(url, parsed, queueConfigSchema, (problems) => {
      // Case checks run even when zod found other problems, so one answer reports all.
      const out = (parsed.data as { out?: unknown })?.out;
      if (!Array.isArray(out)) return;
      out.forEach((route, i) => {
        if (route === null || typeof route !== 'object') return;
        const path = ['out', i, 'case'];
        const check = checkParsedCase((route as { case?: unknown }).case, parsed.sourceAt(path));
        if (!check.ok) problems.push(problem(path, check.problem, lineless));
      });
    });
    return {
      in: data.in,
      out: data.out.map((o) => {
        const check = checkParsedCase(o.case);
        if (!check.ok) throw new Error(`unreachable: case passed validation: ${check.problem}`);
        return { case: check.value, queues: o.queues };
      }),
    };
  }

  /** GET {base}/{service}/{alias trimmed of "/"}: a plain-text bucket name, cached once found. */
  async bucket(service: string, alias: string): Promise<string> {
    const key = trimSlashes(alias);
    if (key === '') throw new errors.SY_ERR_BAD_NAME('bucket alias', alias);
    const cacheKey = `${service}\0${key}`;
    const hit = this.#buckets.get(cacheKey);
    if (hit !== undefined) return hit;
    let pending = this.#inFlight.get(cacheKey);
    if (!pending) {
      const url = `${this.base}/${encodeURIComponent(service)}/${encodePath(key)}`;
      pending = this.#get(url)
        .then((body) => {
          const bucket = body.trim();
          if (bucket === '') throw new errors.SY_ERR_CONFIG_RESPONSE(url, `the body is empty; expected the bucket name that alias "${key}" of service "${service}" stands for`);
          this.#buckets.set(cacheKey, bucket);
          return bucket;
        })
        .finally(() => this.#inFlight.delete(cacheKey));
      this.#inFlight.set(cacheKey, pending);
    }
    return pending;
  }

  async rabbitmq(): Promise<RabbitMqEndpoint> {
    const url = this.rabbitmqUrl;
    const r = validate(url, parseJsonBody(url, await this.#get(url)), rabbitSchema);
    return { host: r.host, port: r.port, username: r.username, passwordRef: r.pass, remoteUrl: url };
  }

  async objectStorage(): Promise<ObjectStorageEndpoint> {
    const url = this.objectStorageUrl;
    const o = validate(url, parseJsonBody(url, await this.#get(url)), objectStorageSchema);
    return { host: o.host, accessKeyRef: o['pass:access-key'], secretKeyRef: o['pass:secret-key'], remoteUrl: url };
  }

  #declarations: Promise<Declarations> | undefined;

  /**
   * GET {base}/queue-declarations once. Switchyard's config server has it when its map
   * declares queue flags; slingshot's service does not, and a 404 means "nothing declared"
   * (undefined: the caller's settings decide, or existing queues are used as they are).
   */
  async queueDeclaration(queue: string): Promise<QueueDeclaration | undefined> {
    this.#declarations ??= (async (): Promise<Declarations> => {
      const url = `${this.base}/queue-declarations`;
      let body: string;
      try {
        body = await this.#get(url);
      } catch (err) {
        if (err instanceof SwitchyardError && /HTTP 404/.test(err.message)) return NO_DECLARATIONS;
        throw err;
      }
      const d = validate(url, parseJsonBody(url, body), declarationsSchema);
      // A Map, so a queue named "constructor" or "__proto__" finds nothing of Object's.
      return { defaults: d.defaults ?? undefined, queues: new Map(Object.entries(d.queues ?? {})) };
    })();
    this.#declarations.catch(() => (this.#declarations = undefined));
    const { defaults, queues } = await this.#declarations;
    return queues.get(queue) ?? defaults;
  }

  /** The body of a 2xx answer; anything else is SY_ERR_CONFIG_SERVICE. */
  async #get(url: string): Promise<string> {
    let res: Response;
    try {
      res = await this.#fetch(url, { method: 'GET', signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError'
        ? `no answer within ${this.#timeoutMs} ms; check the service is up, or raise timeoutMs`
        : `${e.cause?.code ?? e.cause?.message ?? e.message}; check the host and that the service is running`;
      throw new errors.SY_ERR_CONFIG_SERVICE(url, why);
    }
    let body: string;
    try {
      body = await readBounded(res, this.#maxResponseBytes);
    } catch (err) {
      if (err instanceof AnswerTooLarge) {
        throw new errors.SY_ERR_LIMIT_EXCEEDED(`the configuration service's answer to GET ${redactUrl(url)}`, `${this.#maxResponseBytes} bytes`, 'configMaxResponseBytes');
      }
      throw new errors.SY_ERR_CONFIG_SERVICE(url, `the body could not be read (${(err as Error).message})`);
    }
    if (!res.ok) {
      const detail = body.trim().slice(0, 300);
      throw new errors.SY_ERR_CONFIG_SERVICE(url, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${detail ? `: ${detail}` : ''}`);
    }
    return body;
  }
}

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

class AnswerTooLarge extends Error {}

/**
 * The body as text, read up to `max` bytes: a longer body (by its content-length, or once
 * more than `max` arrived) is cancelled, so a configuration service cannot make us buffer
 * an answer of any size.
 */
async function readBounded(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new AnswerTooLarge();
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new AnswerTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * JSON with exact integers. JSON.parse settles syntax (its messages are the familiar
 * ones); the values then come from the yaml package's JSON schema with intAsBigInt,
 * because JSON.parse rounds integers above 2^53 and Node 20 has no reviver `source`.
 */
function parseJsonBody(url: string, body: string): ParsedText {
  try {
    JSON.parse(body);
  } catch (err) {
    throw new errors.SY_ERR_CONFIG_RESPONSE(url, `the body is not JSON (${(err as Error).message})`);
  }
  const parsed = parseExact(body, { json: true });
  if (parsed.syntaxProblems.length > 0) throw new errors.SY_ERR_CONFIG_RESPONSE(url, parsed.syntaxProblems.join('; '));
  return parsed;
}

function validate<T extends z.ZodType>(
  url: string,
  parsed: ParsedText,
  schema: T,
  more?: (problems: ReturnType<typeof problem>[]) => void,
): z.output<T> {
  const result = schema.safeParse(parsed.data);
  const problems = result.success ? [] : result.error.issues.flatMap((iss) => issueToProblems(iss, parsed.data, lineless));
  more?.(problems);
  if (problems.length > 0 || !result.success) {
    throw new errors.SY_ERR_CONFIG_RESPONSE(url, sortedTexts(problems).join('; '));
  }
  return result.data;
}

// A response body is one line of JSON; line numbers would add nothing to a field path.
const lineless = (_path: readonly PathKey[]): undefined => undefined;
