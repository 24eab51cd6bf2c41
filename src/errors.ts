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

/** SY_ERR_RPC_REMOTE: a catalogue error that also carries what the serving side said. */
function rpcRemoteError() {
  const Base = define('SY_ERR_RPC_REMOTE', 'runtime', (api: string, procedure: string, remoteType: string, remoteMessage: string, _trace: string) =>
    `RPC ${api}.${procedure}() failed on the serving side with ${remoteType}: ${remoteMessage}`);
  const ctor = class extends Base {
    /** The error's type on the serving side, e.g. "ValueError" or "TypeError". */
    readonly remoteType: string;
    readonly remoteMessage: string;
    /** The serving side's stack trace as it sent it ("" when it sends none). */
    readonly trace: string;
    constructor(api: string, procedure: string, remoteType: string, remoteMessage: string, trace: string) {
      super(api, procedure, remoteType, remoteMessage, trace);
      this.remoteType = remoteType;
      this.remoteMessage = remoteMessage;
      this.trace = trace;
    }
  };
  Object.defineProperty(ctor, 'name', { value: 'SY_ERR_RPC_REMOTE' });
  return ctor;
}

export const errors = {
  // ---- transports
  SY_ERR_CAPABILITY_MISSING: define('SY_ERR_CAPABILITY_MISSING', 'config',
    (model: string, transport: string, missing: string[]) =>
      `the ${model} model needs the transport capabilities [${missing.join(', ')}] but transport "${transport}" does not offer them; pick a transport that does (see README "Transports")`),
  SY_ERR_ADAPTER_MISSING: define('SY_ERR_ADAPTER_MISSING', 'config',
    (adapter: string, packages: readonly string[]) => `the ${adapter} adapter needs the package(s) ${packages.join(', ')}, which are not installed; install them beside switchyard: npm install ${packages.join(' ')}`),
  SY_ERR_TRANSPORT_CLOSED: define('SY_ERR_TRANSPORT_CLOSED', 'runtime',
    (transport: string, op: string) => `cannot ${op}: transport "${transport}" is closed`),
  SY_ERR_DELIVERY_SETTLED: define('SY_ERR_DELIVERY_SETTLED', 'runtime',
    (queue: string, how: string) => `a delivery from queue "${queue}" was already ${how}; ack, nack or dead-letter each delivery exactly once`),
  SY_ERR_REQUEST_TIMEOUT: define('SY_ERR_REQUEST_TIMEOUT', 'runtime',
    (subject: string, ms: number, setting = 'timeoutMs') => `no reply on "${subject}" within ${ms} ms; check that a responder is running, or raise ${setting}`),
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
  SY_ERR_PROCESS: define('SY_ERR_PROCESS', 'runtime',
    (value: string) => `process threw ${value}, which is not an Error; throw an Error (e.g. throw new Error("why")) so the reason reaches the logs and the dead-letter headers`),
  SY_ERR_MODULE: define('SY_ERR_MODULE', 'usage',
    (path: string, why: string) => `module ${path} cannot be run: ${why}`),
  SY_ERR_USAGE: define('SY_ERR_USAGE', 'usage', (what: string) => what),
  SY_ERR_NO_LOCAL_BROKER: define('SY_ERR_NO_LOCAL_BROKER', 'usage',
    (stateDir: string) => `no switchyard process runs the embedded broker of ${stateDir}: start \`switchyard run\` or \`switchyard dev\` in this folder first (or give --state-dir of the folder it runs in, or --transport for a broker)`),
  SY_ERR_UNKNOWN_QUEUE: define('SY_ERR_UNKNOWN_QUEUE', 'usage',
    (queue: string, closest: string | undefined, known: readonly string[]) =>
      `no queue ${JSON.stringify(queue)} in the running system${closest ? `; did you mean ${JSON.stringify(closest)}?` : ''} (known: ${known.length ? known.map((k) => JSON.stringify(k)).join(', ') : 'none'})`),

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

  // ---- api model (Lightbus RPC and events) and the bus wire
  SY_ERR_BUS_FRAME: define('SY_ERR_BUS_FRAME', 'runtime',
    (what: string, why: string) => `a ${what} on the bus could not be read: ${why}; it was set aside (the sender does not speak the bus protocol or is a different version)`),
  SY_ERR_API_DEFINITION: define('SY_ERR_API_DEFINITION', 'usage',
    (api: string, why: string) => `API "${api}" is not defined correctly: ${why}`),
  SY_ERR_API_UNKNOWN: define('SY_ERR_API_UNKNOWN', 'usage',
    (what: string, fix: string) => `${what}; ${fix}`),
  SY_ERR_LISTENER: define('SY_ERR_LISTENER', 'usage',
    (listener: string, why: string) => `listener "${listener}": ${why}`),
  SY_ERR_SCHEDULE: define('SY_ERR_SCHEDULE', 'usage',
    (what: string, why: string) => `schedule ${what}: ${why}`),
  SY_ERR_BUS_STATE: define('SY_ERR_BUS_STATE', 'usage',
    (what: string, fix: string) => `${what}; ${fix}`),
  SY_ERR_BUS_CALL: define('SY_ERR_BUS_CALL', 'usage',
    (what: string, why: string) => `${what} could not be read: ${why}; it was not run`),
  /**
   * An RPC that failed on the serving side: the caller gets the remote error's type and
   * message (from its Python-style description, `ValueError('bad')`) and trace as fields.
   */
  SY_ERR_RPC_REMOTE: rpcRemoteError(),

  // ---- task model (Core engine services) and outbound http
  SY_ERR_TASK_DECLARATION: define('SY_ERR_TASK_DECLARATION', 'usage',
    (problems: string[]) => `taskService(declaration, process) is not valid:\n  - ${problems.join('\n  - ')}`),
  SY_ERR_TASK_INPUT: define('SY_ERR_TASK_INPUT', 'runtime',
    (why: string) => `task input rejected: ${why}`),
  SY_ERR_TASK_OUTPUT: define('SY_ERR_TASK_OUTPUT', 'runtime',
    (why: string) => `process returned unusable outputs: ${why}; return { [output name]: { type, data } } for every declared output, with a type the declaration allows`),
  SY_ERR_TASK_SAVE: define('SY_ERR_TASK_SAVE', 'runtime',
    (output: string, why: string) => `saving output "${output}" failed: ${why}`),
  SY_ERR_TASK_PROCESS: define('SY_ERR_TASK_PROCESS', 'runtime',
    (message: string) => `process failed: ${message}`),
  SY_ERR_TASK_CALLBACK: define('SY_ERR_TASK_CALLBACK', 'runtime',
    (url: string, why: string) => `PATCH ${redactUrl(url)} (task callback) failed: ${why}`),
  SY_ERR_ENGINE_REGISTRATION: define('SY_ERR_ENGINE_REGISTRATION', 'runtime',
    (engine: string, why: string) => `registering with the engine at ${redactUrl(engine)} failed: ${why}`),
  SY_ERR_HTTP_LISTEN: define('SY_ERR_HTTP_LISTEN', 'config',
    (address: string, why: string) => `cannot serve HTTP on ${address}: ${why}`),
  SY_ERR_HTTP_CALL: define('SY_ERR_HTTP_CALL', 'runtime',
    (method: string, url: string, cause: string) => `${method} ${redactUrl(url.length > 300 ? `${url.slice(0, 300)}…` : url)} got no answer (${cause}); check that the server at that address is running and reachable from here`),
  SY_ERR_TASK_STATE: define('SY_ERR_TASK_STATE', 'runtime',
    (from: string, to: string) => `task status cannot move from ${from} to ${to}; the task model broke its own status machine (pending → fetching → processing → saving → finished, or error): please report this`),
  SY_ERR_TASK_SERVICES: define('SY_ERR_TASK_SERVICES', 'usage',
    (names: string) => `one task service per process (an engine knows a service by its URL and port), got ${names}; run each in its own process with its own SERVICE_PORT`),

  // ---- service model (service_framework's connections and states) and ZeroMQ sockets
  SY_ERR_SOCKET_ADDRESS: define('SY_ERR_SOCKET_ADDRESS', 'config',
    (address: string, why: string) => `socket address ${JSON.stringify(address)} cannot be used: ${why}; give "host:port" (e.g. "127.0.0.1:8899") or a full endpoint such as "tcp://127.0.0.1:8899"`),
  SY_ERR_SERVICE_DEFINITION: define('SY_ERR_SERVICE_DEFINITION', 'usage',
    (where: string, what: string) => `service definition ${where} is not valid: ${what}`),
  SY_ERR_SERVICE_ADDRESSES: define('SY_ERR_SERVICE_ADDRESSES', 'config',
    (path: string, what: string) => `addresses: ${path} ${what}; add it to addresses.json (see README "Services with connections and states")`),
  SY_ERR_SERVICE_OUTPUT: define('SY_ERR_SERVICE_OUTPUT', 'usage',
    (kind: string, name: string, known: string[]) => `toSend(${JSON.stringify(kind)}, ${JSON.stringify(name)}): no outbound ${kind} of that name (known: ${known.length ? known.map((k) => JSON.stringify(k)).join(', ') : 'none'}); declare it under ${kind === 'state' ? 'states' : 'connections'}.out`),
  SY_ERR_SERVICE_REMOTE: define('SY_ERR_SERVICE_REMOTE', 'runtime',
    (connection: string, why: string) => `the replyer behind connection "${connection}" could not answer: ${why}`),
  SY_ERR_SERVICE_MAIN_MODE: define('SY_ERR_SERVICE_MAIN_MODE', 'usage',
    (why: string) => `main mode: ${why}`),
  SY_ERR_SOCKET_DISCONNECTED: define('SY_ERR_SOCKET_DISCONNECTED', 'runtime',
    (address: string, maxMessageSize: string) => `the connection to the replyer at ${address} dropped while a request waited for its reply: the replyer stopped or crashed, or the request or its reply was over the ${maxMessageSize} message size limit (maxMessageSize, \`--max-message-size\`). The request may or may not have been handled; send it again only if that is safe`),
  SY_ERR_SERVICE_FRAME: define('SY_ERR_SERVICE_FRAME', 'usage',
    (why: string) => `bad service_framework frame: ${why}; send msgpack of {"args": {...}, "workflow_id": ...} (a reply: {"return_args": {...}, "workflow_id": ...}), after the topic's msgpack bytes when the connection has a topic`),
  SY_ERR_SERVICE_VALUE: define('SY_ERR_SERVICE_VALUE', 'usage',
    (what: string, fix: string) => `${what}; ${fix}`),
  SY_ERR_SERVICE_CODEC: define('SY_ERR_SERVICE_CODEC', 'config',
    (got: string) => `@msgpack/msgpack's Encoder no longer lets the service codec write a whole float as float64 (got ${got}); pin @msgpack/msgpack 3.1.x or update src/models/service/wire/codec.ts`),
  SY_ERR_SERVICE_DEFINITIONS: define('SY_ERR_SERVICE_DEFINITIONS', 'usage',
    (names: string) => `several services in one process must have different names (got ${names}); give each service({ name: ... }) a name of its own`),

  // ---- provider model and unix sockets
  SY_ERR_PROVIDER_DEFINITIONS: define('SY_ERR_PROVIDER_DEFINITIONS', 'usage',
    (why: string) => `providers in one process: ${why}`),
  SY_ERR_PROVIDER_STOPPING: define('SY_ERR_PROVIDER_STOPPING', 'runtime',
    (service: string, id: string) => `provider ${service} is stopping; request ${JSON.stringify(id.slice(0, 100))} is left unacked so that the coordinator offers it to another provider`),
  SY_ERR_REQUEST_TRACKER: define('SY_ERR_REQUEST_TRACKER', 'usage',
    (why: string) => `the request tracker ${why}`),
  SY_ERR_UNIX_CONNECT: define('SY_ERR_UNIX_CONNECT', 'runtime',
    (path: string, why: string) => `cannot connect to ${path}: ${why}`),
  SY_ERR_SOCKET_PATH: define('SY_ERR_SOCKET_PATH', 'config',
    (path: string, why: string) => `unix socket path ${JSON.stringify(path)} cannot be used: ${why}`),
  SY_ERR_SOCKET_IN_USE: define('SY_ERR_SOCKET_IN_USE', 'config',
    (path: string) => `unix socket ${JSON.stringify(path)} is served by a live process; stop that process, or give this one another service_name or socket_dir`),
  SY_ERR_FRAME: define('SY_ERR_FRAME', 'usage',
    (why: string) => `bad acomm frame: ${why}; send a 4-byte big-endian length followed by that many bytes of JSON, one message per connection`),
  SY_ERR_HOOK: define('SY_ERR_HOOK', 'runtime',
    (url: string, why: string) => `response hook ${redactUrl(url)} could not be used: ${why}`),
  SY_ERR_TASK_REGISTRATION: define('SY_ERR_TASK_REGISTRATION', 'usage',
    (task: string, why: string) => `task ${JSON.stringify(task)} cannot be registered: ${why}`),
  SY_ERR_NO_PROVIDER: define('SY_ERR_NO_PROVIDER', 'runtime',
    (task: string, dir: string, tried: number) => `no provider of task ${JSON.stringify(task)} answered in ${dir} (${tried} socket(s) tried); start a provider that registers it, or check socket_dir`),
  SY_ERR_TASK_FAILED: define('SY_ERR_TASK_FAILED', 'runtime',
    (task: string, message: string) => `task ${JSON.stringify(task)} failed: ${message}`),
  SY_ERR_TASK_TIMEOUT: define('SY_ERR_TASK_TIMEOUT', 'runtime',
    (task: string, ms: number, fix: string) => `task ${JSON.stringify(task)} did not finish within ${ms} ms; ${fix}`),

  // ---- redis transport (issue 4: src/transports/redis)
  SY_ERR_DELIVERY_RECLAIMED: define('SY_ERR_DELIVERY_RECLAIMED', 'runtime',
    (queue: string) => `a delivery from queue "${queue}" was taken over by another consumer before it was settled (it looked idle longer than reclaimIdleMs); that consumer delivers it again. Raise reclaimIdleMs above your longest handler`),
  SY_ERR_REDIS_OPTION: define('SY_ERR_REDIS_OPTION', 'config',
    (option: string, value: string, expected: string) => `Redis transport option ${option} = ${value} is not valid: expected ${expected}`),
  SY_ERR_REDIS_VERSION: define('SY_ERR_REDIS_VERSION', 'config',
    (where: string, version: string) => `the Redis server at ${where} is version ${version}; the Redis transport needs Redis 7.0 or later (XAUTOCLAIM, BLMPOP, CLIENT UNBLOCK); upgrade it or point the URL at a newer server`),

  // ---- dashboard, topology pictures, dead-letter tools (issue 16)
  SY_ERR_DASHBOARD_ASSETS: define('SY_ERR_DASHBOARD_ASSETS', 'config',
    (looked: string[]) => `the dashboard page is not built (looked in ${looked.join(', ')}); run \`npm run build\` in the package (it bundles web/dashboard into dist/dashboard-page)`),
  SY_ERR_DASHBOARD_REQUEST: define('SY_ERR_DASHBOARD_REQUEST', 'usage',
    (why: string) => `the dashboard refused the request: ${why}`),
  SY_ERR_DEAD_LETTERS_UNSUPPORTED: define('SY_ERR_DEAD_LETTERS_UNSUPPORTED', 'usage',
    (transport: string) => `transport "${transport}" keeps no dead letters this tool can reach; use memory (through the running process), amqp or redis`),
  SY_ERR_TOPOLOGY_INPUT: define('SY_ERR_TOPOLOGY_INPUT', 'usage',
    (input: string, why: string) => `cannot draw the topology of ${input}: ${why}`),

  // ---- limits on what peers send, and where a peer may send us (hardening)
  SY_ERR_LIMIT_EXCEEDED: define('SY_ERR_LIMIT_EXCEEDED', 'runtime',
    (what: string, limit: string, setting: string) => `${what} is over the limit of ${limit} and was refused; if it is legitimate, raise ${setting}`),
  SY_ERR_OUTBOUND_REFUSED: define('SY_ERR_OUTBOUND_REFUSED', 'config',
    (what: string, target: string, setting: string) => `${what} ${redactUrl(target)} is not in the allow-list ${setting}; add its host, network or unix: socket folder to ${setting}, or leave ${setting} unset to allow any`),
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
