// The catalogue of errors a user can cause or meet, in the manner of fastify's FST_ERR_*:
// one code per cause, a message that names what was wrong and how to fix it. Messages are
// built from the arguments given at the throw site; never pass a secret value in.

/** Exit code classes the CLI maps errors to: 2 usage/configuration, 1 runtime. */
export type ErrorKind = 'usage' | 'config' | 'runtime';

export class SwitchyardError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  constructor(code: string, kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SwitchyardError';
    this.code = code;
    this.kind = kind;
  }
}

type Template<A extends unknown[]> = (...args: A) => string;

/** Builds an error class for one code, so callers write `throw new ERR_X(arg)`. */
function define<A extends unknown[]>(code: string, kind: ErrorKind, template: Template<A>) {
  const ctor = class extends SwitchyardError {
    constructor(...args: A) {
      super(code, kind, `${code}: ${template(...args)}`);
    }
  };
  Object.defineProperty(ctor, 'name', { value: code });
  return ctor;
}

export const errors = {
  // ---- transports
  SY_ERR_CAPABILITY_MISSING: define('SY_ERR_CAPABILITY_MISSING', 'config',
    (model: string, transport: string, missing: string[]) =>
      `the ${model} model needs the transport capabilities [${missing.join(', ')}] but transport "${transport}" does not offer them; pick a transport that does (see README "Transports")`),
  SY_ERR_TRANSPORT_CLOSED: define('SY_ERR_TRANSPORT_CLOSED', 'runtime',
    (transport: string, op: string) => `cannot ${op}: transport "${transport}" is closed`),
  SY_ERR_DELIVERY_SETTLED: define('SY_ERR_DELIVERY_SETTLED', 'runtime',
    (queue: string, how: string) => `a delivery from queue "${queue}" was already ${how}; ack, nack or dead-letter each delivery exactly once`),
  SY_ERR_REQUEST_TIMEOUT: define('SY_ERR_REQUEST_TIMEOUT', 'runtime',
    (subject: string, ms: number) => `no reply on "${subject}" within ${ms} ms; check that a responder is running, or raise timeoutMs`),
  SY_ERR_NO_RESPONDER: define('SY_ERR_NO_RESPONDER', 'runtime',
    (subject: string) => `no responder is serving "${subject}"; start the service that serves it first`),
  SY_ERR_BAD_NAME: define('SY_ERR_BAD_NAME', 'config',
    (what: string, name: string) => `${what} name ${JSON.stringify(name)} is not valid: use 1-255 characters, no whitespace or control characters`),

  SY_ERR_QUEUE_FLAGS: define('SY_ERR_QUEUE_FLAGS', 'config',
    (queue: string, what: string, fix: string) => `queue "${queue}" cannot be used as configured: ${what}; set ${fix}`),
  SY_ERR_BROKER: define('SY_ERR_BROKER', 'runtime',
    (where: string, why: string) => `message broker ${where}: ${why}`),
  SY_ERR_CHANNEL_LOST: define('SY_ERR_CHANNEL_LOST', 'runtime',
    (queue: string) => `the channel a delivery from "${queue}" came on was lost before it was settled; the broker redelivers the message`),
  SY_ERR_UNROUTABLE: define('SY_ERR_UNROUTABLE', 'runtime',
    (target: string) => `the broker could not route a message to ${target}: no such queue; declare it (start its consumer first) or check the name`),
  SY_ERR_REMOTE: define('SY_ERR_REMOTE', 'runtime',
    (subject: string, message: string) => `the responder of "${subject}" failed: ${message}`),

  // ---- storage
  SY_ERR_STORAGE_KEY: define('SY_ERR_STORAGE_KEY', 'usage',
    (bucket: string, key: string, why: string) => `object key ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)} is not allowed: ${why}`),
  SY_ERR_OBJECT_NOT_FOUND: define('SY_ERR_OBJECT_NOT_FOUND', 'runtime',
    (bucket: string, key: string) => `object ${JSON.stringify(key)} does not exist in bucket ${JSON.stringify(bucket)}; upload it first (switchyard put) or check the id and the bucket alias`),
  SY_ERR_STORAGE_IO: define('SY_ERR_STORAGE_IO', 'runtime',
    (store: string, op: string, bucket: string, key: string, why: string) => `${store} storage could not ${op} object ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)}: ${why}`),

  // ---- configuration, system map, secrets
  SY_ERR_SYSMAP_INVALID: define('SY_ERR_SYSMAP_INVALID', 'config',
    (file: string, problems: string[]) => `system map ${file} is not valid:\n  - ${problems.join('\n  - ')}`),
  SY_ERR_CONFIG_SERVICE: define('SY_ERR_CONFIG_SERVICE', 'runtime',
    (url: string, why: string) => `configuration service request GET ${redactUrl(url)} failed: ${why}`),
  SY_ERR_CONFIG_RESPONSE: define('SY_ERR_CONFIG_RESPONSE', 'runtime',
    (url: string, why: string) => `configuration service answered GET ${redactUrl(url)} with something unusable: ${why}`),
  SY_ERR_SECRET_REF: define('SY_ERR_SECRET_REF', 'config',
    (ref: string, why: string) => `secret reference ${JSON.stringify(ref)} could not be resolved: ${why}`),
  SY_ERR_SETTINGS: define('SY_ERR_SETTINGS', 'config',
    (what: string) => `invalid settings: ${what}`),

  // ---- worker model
  SY_ERR_BAD_ID: define('SY_ERR_BAD_ID', 'usage',
    (why: string) => `message body is not a u64 id: ${why}; send the id as decimal text, e.g. "42"`),
  SY_ERR_BAD_CASE: define('SY_ERR_BAD_CASE', 'usage',
    (value: string) => `case value ${value} is not a bool, an integer or a string; return [resultId, true | 3 | "name"]`),
  SY_ERR_BAD_RESULT: define('SY_ERR_BAD_RESULT', 'usage',
    (why: string) => `process returned an unusable result: ${why}; return or yield [resultId: bigint, case: boolean | number | string] pairs`),
  SY_ERR_NO_ROUTE: define('SY_ERR_NO_ROUTE', 'runtime',
    (service: string, caseValue: string) => `service "${service}" has no route for case ${caseValue}; add {case: ${caseValue}, queues: [...]} to its "out" list in the system map, or set unroutedCases: "drop"`),
  SY_ERR_MODULE: define('SY_ERR_MODULE', 'usage',
    (path: string, why: string) => `module ${path} cannot be run: ${why}`),
  SY_ERR_USAGE: define('SY_ERR_USAGE', 'usage', (what: string) => what),

  // ---- configuration look-ups (appended by the config layer)
  SY_ERR_CONFIG_UNKNOWN: define('SY_ERR_CONFIG_UNKNOWN', 'config',
    (where: string, kind: string, name: string, known: string[]) =>
      `${where} has no ${kind} ${JSON.stringify(name)} (known: ${known.length ? known.map((k) => JSON.stringify(k)).join(', ') : 'none'}); check the name, or add it to the system map`),

  // ---- object storage over S3 (appended by the s3 store)
  SY_ERR_BUCKET_NOT_FOUND: define('SY_ERR_BUCKET_NOT_FOUND', 'config',
    (store: string, bucket: string, where: string) => `bucket ${JSON.stringify(bucket)} does not exist on ${store} storage at ${where}; create the bucket, or check the bucket name the alias resolves to`),
  SY_ERR_STORAGE_AUTH: define('SY_ERR_STORAGE_AUTH', 'config',
    (store: string, op: string, bucket: string, key: string, where: string, cause: string) => `${store} storage at ${where} refused to ${op} object ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)}: ${cause}; check the access key and secret key and the key's permissions on the bucket`),

  // ---- schemas and validation (src/schema)
  SY_ERR_VALIDATION: define('SY_ERR_VALIDATION', 'usage',
    (subject: string, problems: string[]) => `${subject} ${problems.length === 1 ? 'is' : 'are'} not valid: ${problems.join('; ')}`),

  // ---- api model and redis transport (issue 4)

  // ---- task model and http (issue 5)

  // ---- service model and zeromq (issue 6)

  // ---- provider model and unix sockets (issue 7)

  // ---- redis transport (issue 4: src/transports/redis)
  SY_ERR_DELIVERY_RECLAIMED: define('SY_ERR_DELIVERY_RECLAIMED', 'runtime',
    (queue: string) => `a delivery from queue "${queue}" was taken over by another consumer before it was settled (it looked idle longer than reclaimIdleMs); that consumer delivers it again. Raise reclaimIdleMs above your longest handler`),
  SY_ERR_REDIS_OPTION: define('SY_ERR_REDIS_OPTION', 'config',
    (option: string, value: string, expected: string) => `Redis transport option ${option} = ${value} is not valid: expected ${expected}`),
  SY_ERR_REDIS_VERSION: define('SY_ERR_REDIS_VERSION', 'config',
    (where: string, version: string) => `the Redis server at ${where} is version ${version}; the Redis transport needs Redis 7.0 or later (XAUTOCLAIM, BLMPOP, CLIENT UNBLOCK); upgrade it or point the URL at a newer server`),
} as const;

export type ErrorCode = keyof typeof errors;

/** A URL fit for a message: any user name and password replaced by "***". */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username === '' && u.password === '') return url;
    u.username = '***';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//***@');
  }
}

/** Process exit code for an error: 2 for usage or configuration, 1 otherwise. */
export function exitCodeFor(err: unknown): number {
  return err instanceof SwitchyardError && (err.kind === 'usage' || err.kind === 'config') ? 2 : 1;
}
