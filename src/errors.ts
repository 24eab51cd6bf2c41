// The catalogue of errors a user can cause or meet, in the manner of fastify's FST_ERR_*:
// one code per cause, a message that names what was wrong and how to fix it. Messages are
// built from the arguments given at the throw site; never pass a secret value in.
//
// Codes are grouped by concern (configuration, transports, storage, each model, the CLI,
// limits), one section each; a new code goes into its concern's section with a `means` and
// a `fix` text. docs/reference/errors.md is generated from this file
// (`node scripts/gen-errors-doc.mjs`; a test fails when it is stale).

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

/** What the reference page says of a code: what it means and how to fix it. */
export interface ErrorDoc {
  readonly means: string;
  readonly fix: string;
}

/** The concerns the catalogue is grouped by (its sections). */
export type ErrorConcern =
  | 'configuration and settings' | 'transports and brokers' | 'storage' | 'worker model' | 'api model'
  | 'service model' | 'task model' | 'provider model' | 'cli and tools' | 'limits and outbound connections'
  | 'the package and its peer dependencies';

/** What every catalogue class carries besides its constructor. */
interface Catalogued {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly doc: ErrorDoc;
}

/** Builds an error class for one code, so callers write `throw new ERR_X(arg)`. */
function define<A extends unknown[]>(code: string, kind: ErrorKind, template: Template<A>, doc: ErrorDoc) {
  const ctor = class extends SwitchyardError {
    constructor(...args: A) {
      super(code, kind, `${code}: ${template(...args)}`);
    }
  };
  Object.defineProperty(ctor, 'name', { value: code });
  return Object.assign(ctor, { code, kind, doc } satisfies Catalogued);
}

const CONCERN = Symbol('concern');

/** One concern's codes: marks each with the concern, for the reference page. */
function section<const E extends Record<string, Catalogued>>(concern: ErrorConcern, entries: E): E {
  for (const ctor of Object.values(entries)) Object.defineProperty(ctor, CONCERN, { value: concern });
  return entries;
}

/** SY_ERR_RPC_REMOTE: a catalogue error that also carries what the serving side said. */
function rpcRemoteError(doc: ErrorDoc) {
  const Base = define('SY_ERR_RPC_REMOTE', 'runtime', (api: string, procedure: string, remoteType: string, remoteMessage: string, _trace: string) =>
    `RPC ${api}.${procedure}() failed on the serving side with ${remoteType}: ${remoteMessage}`, doc);
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

// ---- configuration and settings
const configurationAndSettingsErrors = section('configuration and settings', {
  SY_ERR_SETTINGS: define('SY_ERR_SETTINGS', 'config',
    (what: string) => `invalid settings: ${what}`,
    { means: 'A setting has a value its schema refuses; the message names the key, where the value came from (flag, environment variable, file) and what is allowed.', fix: 'Correct the value at the source the message names.' }),
  SY_ERR_SYSMAP_INVALID: define('SY_ERR_SYSMAP_INVALID', 'config',
    (file: string, problems: string[]) => `system map ${file} is not valid:\n  - ${problems.join('\n  - ')}`,
    { means: 'The system map (the sys-map YAML or JSON naming queues, buckets and routes) is not valid.', fix: 'Fix each problem listed under the file name.' }),
  SY_ERR_CONFIG_SERVICE: define('SY_ERR_CONFIG_SERVICE', 'runtime',
    (url: string, why: string) => `configuration service request GET ${redactUrl(url)} failed: ${why}`,
    { means: 'A request to the configuration service (--config-host) failed: no answer, refused, or an HTTP error.', fix: 'Check that the configuration service runs at that URL and answers GET for the service; raise its timeout if it is slow.' }),
  SY_ERR_CONFIG_RESPONSE: define('SY_ERR_CONFIG_RESPONSE', 'runtime',
    (url: string, why: string) => `configuration service answered GET ${redactUrl(url)} with something unusable: ${why}`,
    { means: 'The configuration service answered, but with a body that cannot be used (not JSON, or not the expected shape).', fix: 'Fix what the configuration service returns for that path.' }),
  SY_ERR_CONFIG_UNKNOWN: define('SY_ERR_CONFIG_UNKNOWN', 'config',
    (where: string, kind: string, name: string, known: string[]) =>
      `${where} has no ${kind} ${JSON.stringify(name)} (known: ${known.length ? known.map((k) => JSON.stringify(k)).join(', ') : 'none'}); check the name, or add it to the system map`,
    { means: 'A name (a queue, bucket alias or service) was looked up in the configuration and is not there.', fix: 'Check the spelling, or add the name to the system map.' }),
  SY_ERR_SECRET_REF: define('SY_ERR_SECRET_REF', 'config',
    (ref: string, why: string) => `secret reference ${JSON.stringify(ref)} could not be resolved: ${why}`,
    { means: 'A secret reference (pass:, env: or file:) could not be resolved.', fix: 'Check that the pass entry, variable or file exists and is readable; remote configuration may only name pass entries.' }),
  SY_ERR_VALIDATION: define('SY_ERR_VALIDATION', 'usage',
    (subject: string, problems: string[]) => `${subject} ${problems.length === 1 ? 'is' : 'are'} not valid: ${problems.join('; ')}`,
    { means: 'A value (a message, parameters, a result, a configuration) does not match its schema; every problem is named with its field.', fix: 'Send or return values that match the declared schema, or change the schema.' }),
});

// ---- transports and brokers
const transportsAndBrokersErrors = section('transports and brokers', {
  SY_ERR_CAPABILITY_MISSING: define('SY_ERR_CAPABILITY_MISSING', 'config',
    (model: string, transport: string, missing: string[]) =>
      `the ${model} model needs the transport capabilities [${missing.join(', ')}] but transport "${transport}" does not offer them; pick a transport that does (see README "Transports")`,
    { means: 'A model needs a transport capability (queues, topics, request/reply, sockets, bus) that the chosen transport does not offer.', fix: 'Choose a transport that offers it (see the transports table in the docs).' }),
  SY_ERR_ADAPTER_MISSING: define('SY_ERR_ADAPTER_MISSING', 'config',
    (adapter: string, packages: readonly string[]) => `the ${adapter} adapter needs the package(s) ${packages.join(', ')}, which are not installed; install them beside switchyard: npm install ${packages.join(' ')}`,
    { means: 'The chosen transport or storage needs an npm package that is not installed.', fix: 'Install the packages the message names beside switchyard.' }),
  SY_ERR_TRANSPORT_CLOSED: define('SY_ERR_TRANSPORT_CLOSED', 'runtime',
    (transport: string, op: string) => `cannot ${op}: transport "${transport}" is closed`,
    { means: 'An operation was attempted on a transport that was already closed.', fix: 'Do not use a transport after stop()/close(); start a new one.' }),
  SY_ERR_DELIVERY_SETTLED: define('SY_ERR_DELIVERY_SETTLED', 'runtime',
    (queue: string, how: string) => `a delivery from queue "${queue}" was already ${how}; ack, nack or dead-letter each delivery exactly once`,
    { means: 'A delivery was acked, nacked or dead-lettered a second time.', fix: 'Settle each delivery exactly once.' }),
  SY_ERR_REQUEST_TIMEOUT: define('SY_ERR_REQUEST_TIMEOUT', 'runtime',
    (subject: string, ms: number, setting = 'timeoutMs') => `no reply on "${subject}" within ${ms} ms; check that a responder is running, or raise ${setting}`,
    { means: 'A request got no reply within its timeout.', fix: 'Check that a responder runs and is reachable, or raise the setting the message names (rpc_timeout for RPCs, timeoutMs elsewhere).' }),
  SY_ERR_NO_RESPONDER: define('SY_ERR_NO_RESPONDER', 'runtime',
    (subject: string) => `no responder is serving "${subject}"; start the service that serves it first`,
    { means: 'A request was sent to a subject no responder serves.', fix: 'Start the service that serves it first.' }),
  SY_ERR_BAD_NAME: define('SY_ERR_BAD_NAME', 'config',
    (what: string, name: string) => `${what} name ${JSON.stringify(name)} is not valid: use 1-255 characters, no whitespace or control characters`,
    { means: 'A queue, topic or subject name is empty, too long or holds whitespace or control characters.', fix: 'Use 1-255 characters without whitespace or control characters.' }),
  SY_ERR_QUEUE_FLAGS: define('SY_ERR_QUEUE_FLAGS', 'config',
    (queue: string, what: string, fix: string) => `queue "${queue}" cannot be used as configured: ${what}; set ${fix}`,
    { means: 'A queue exists on the broker with flags (durable, arguments) other than the ones configured.', fix: 'Set the queue flags the message names so both sides agree, or delete the queue on the broker.' }),
  SY_ERR_BROKER: define('SY_ERR_BROKER', 'runtime',
    (where: string, why: string) => `message broker ${where}: ${why}`,
    { means: 'The message broker (RabbitMQ, Redis) could not be reached or failed an operation; the message names the URL without credentials.', fix: 'Check that the broker runs at that address and that the URL\'s host, port, virtual host or database and credentials are right.' }),
  SY_ERR_CHANNEL_LOST: define('SY_ERR_CHANNEL_LOST', 'runtime',
    (queue: string) => `the channel a delivery from "${queue}" came on was lost before it was settled; the broker redelivers the message`,
    { means: 'The channel a delivery came on closed before it was settled.', fix: 'Nothing to do: the broker delivers the message again; make handlers safe to repeat.' }),
  SY_ERR_UNROUTABLE: define('SY_ERR_UNROUTABLE', 'runtime',
    (target: string) => `the broker could not route a message to ${target}: no such queue; declare it (start its consumer first) or check the name`,
    { means: 'The broker could not route a message: no queue is bound to its name.', fix: 'Declare the queue (start its consumer first) or correct the name.' }),
  SY_ERR_REMOTE: define('SY_ERR_REMOTE', 'runtime',
    (subject: string, message: string) => `the responder of "${subject}" failed: ${message}`,
    { means: 'The responder of a request failed and sent its error back.', fix: 'Look at the responder\'s log for the cause.' }),
  SY_ERR_DELIVERY_RECLAIMED: define('SY_ERR_DELIVERY_RECLAIMED', 'runtime',
    (queue: string) => `a delivery from queue "${queue}" was taken over by another consumer before it was settled (it looked idle longer than reclaimIdleMs); that consumer delivers it again. Raise reclaimIdleMs above your longest handler`,
    { means: 'A Redis delivery stayed unsettled longer than reclaimIdleMs and another consumer took it over.', fix: 'Raise reclaimIdleMs above the longest handler time.' }),
  SY_ERR_REDIS_OPTION: define('SY_ERR_REDIS_OPTION', 'config',
    (option: string, value: string, expected: string) => `Redis transport option ${option} = ${value} is not valid: expected ${expected}`,
    { means: 'A Redis transport option has a value it cannot use.', fix: 'Give the option a value of the expected form.' }),
  SY_ERR_REDIS_VERSION: define('SY_ERR_REDIS_VERSION', 'config',
    (where: string, version: string) => `the Redis server at ${where} is version ${version}; the Redis transport needs Redis 7.0 or later (XAUTOCLAIM, BLMPOP, CLIENT UNBLOCK); upgrade it or point the URL at a newer server`,
    { means: 'The Redis server is older than 7.0, which the Redis transport needs.', fix: 'Upgrade Redis or point the URL at a newer server.' }),
  SY_ERR_SOCKET_ADDRESS: define('SY_ERR_SOCKET_ADDRESS', 'config',
    (address: string, why: string) => `socket address ${JSON.stringify(address)} cannot be used: ${why}; give "host:port" (e.g. "127.0.0.1:8899") or a full endpoint such as "tcp://127.0.0.1:8899"`,
    { means: 'A ZeroMQ socket address cannot be used (wrong form, or cannot bind/connect).', fix: 'Give "host:port" or a full endpoint such as tcp://127.0.0.1:8899, and check the port is free.' }),
  SY_ERR_SOCKET_DISCONNECTED: define('SY_ERR_SOCKET_DISCONNECTED', 'runtime',
    (address: string, maxMessageSize: string) => `the connection to the replyer at ${address} dropped while a request waited for its reply: the replyer stopped or crashed, or the request or its reply was over the ${maxMessageSize} message size limit (maxMessageSize, \`--max-message-size\`). The request may or may not have been handled; send it again only if that is safe`,
    { means: 'The connection to a replyer dropped while a request waited for its reply.', fix: 'Check the replyer is running and the messages are under maxMessageSize; resend only if that is safe.' }),
  SY_ERR_SOCKET_PATH: define('SY_ERR_SOCKET_PATH', 'config',
    (path: string, why: string) => `unix socket path ${JSON.stringify(path)} cannot be used: ${why}`,
    { means: 'A unix socket path cannot be used (too long, not a directory, no permission).', fix: 'Choose a shorter or writable socket_dir.' }),
  SY_ERR_SOCKET_IN_USE: define('SY_ERR_SOCKET_IN_USE', 'config',
    (path: string) => `unix socket ${JSON.stringify(path)} is served by a live process; stop that process, or give this one another service_name or socket_dir`,
    { means: 'Another live process serves the unix socket.', fix: 'Stop that process, or give this one another service_name or socket_dir.' }),
  SY_ERR_HTTP_LISTEN: define('SY_ERR_HTTP_LISTEN', 'config',
    (address: string, why: string) => `cannot serve HTTP on ${address}: ${why}`,
    { means: 'The HTTP server cannot listen on the address (in use, or not allowed).', fix: 'Choose another port or host, or stop what uses it.' }),
  SY_ERR_HTTP_CALL: define('SY_ERR_HTTP_CALL', 'runtime',
    (method: string, url: string, cause: string) => `${method} ${redactUrl(url.length > 300 ? `${url.slice(0, 300)}…` : url)} got no answer (${cause}); check that the server at that address is running and reachable from here`,
    { means: 'An outbound HTTP request got no answer (refused, reset, timed out).', fix: 'Check that the server at that address runs and is reachable from here.' }),
  SY_ERR_UNIX_CONNECT: define('SY_ERR_UNIX_CONNECT', 'runtime',
    (path: string, why: string) => `cannot connect to ${path}: ${why}`,
    { means: 'Connecting to a unix socket failed (no such socket, refused, no permission).', fix: 'Check that the process serving that socket runs and that the path is right.' }),
});

// ---- storage
const storageErrors = section('storage', {
  SY_ERR_STORAGE_KEY: define('SY_ERR_STORAGE_KEY', 'usage',
    (bucket: string, key: string, why: string) => `object key ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)} is not allowed: ${why}`,
    { means: 'An object key is not allowed (empty, absolute, or climbing out of the bucket).', fix: 'Use a relative key without ".." segments.' }),
  SY_ERR_OBJECT_NOT_FOUND: define('SY_ERR_OBJECT_NOT_FOUND', 'runtime',
    (bucket: string, key: string) => `object ${JSON.stringify(key)} does not exist in bucket ${JSON.stringify(bucket)}; upload it first (switchyard put) or check the id and the bucket alias`,
    { means: 'The object does not exist in the bucket.', fix: 'Upload it first (switchyard put) or check the id and the bucket alias.' }),
  SY_ERR_STORAGE_IO: define('SY_ERR_STORAGE_IO', 'runtime',
    (store: string, op: string, bucket: string, key: string, why: string) => `${store} storage could not ${op} object ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)}: ${why}`,
    { means: 'Reading or writing an object failed in the storage backend.', fix: 'Check the store is reachable and has room; the message gives the cause.' }),
  SY_ERR_BUCKET_NOT_FOUND: define('SY_ERR_BUCKET_NOT_FOUND', 'config',
    (store: string, bucket: string, where: string) => `bucket ${JSON.stringify(bucket)} does not exist on ${store} storage at ${where}; create the bucket, or check the bucket name the alias resolves to`,
    { means: 'The bucket does not exist on the storage.', fix: 'Create the bucket, or correct the bucket name the alias resolves to.' }),
  SY_ERR_STORAGE_AUTH: define('SY_ERR_STORAGE_AUTH', 'config',
    (store: string, op: string, bucket: string, key: string, where: string, cause: string) => `${store} storage at ${where} refused to ${op} object ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)}: ${cause}; check the access key and secret key and the key's permissions on the bucket`,
    { means: 'The storage refused the credentials or the key has no permission on the bucket.', fix: 'Check the access key, the secret key and the key\'s permissions.' }),
});

// ---- worker model
const workerModelErrors = section('worker model', {
  SY_ERR_BAD_ID: define('SY_ERR_BAD_ID', 'usage',
    (why: string) => `message body is not a u64 id: ${why}; send the id as decimal text, e.g. "42"`,
    { means: 'A message body is not a u64 id.', fix: 'Send the id as decimal text, e.g. "42"; such messages are dead-lettered.' }),
  SY_ERR_BAD_CASE: define('SY_ERR_BAD_CASE', 'usage',
    (value: string) => `case value ${value} is not a bool, an integer or a string; return [resultId, true | 3 | "name"]`,
    { means: 'A process returned a case value that is not a bool, an integer or a string.', fix: 'Return [resultId, true | 3 | "name"].' }),
  SY_ERR_BAD_RESULT: define('SY_ERR_BAD_RESULT', 'usage',
    (why: string) => `process returned an unusable result: ${why}; return or yield [resultId: bigint, case: boolean | number | string] pairs`,
    { means: 'A process returned or yielded something that is not [resultId, case] pairs.', fix: 'Return or yield [resultId: bigint, case] pairs.' }),
  SY_ERR_NO_ROUTE: define('SY_ERR_NO_ROUTE', 'runtime',
    (service: string, caseValue: string) => `service "${service}" has no route for case ${caseValue}; add {case: ${caseValue}, queues: [...]} to its "out" list in the system map, or set unroutedCases: "drop"`,
    { means: 'A result\'s case value has no route in the service\'s "out" list.', fix: 'Add {case, queues} to the system map, or set unroutedCases: "drop".' }),
  SY_ERR_PROCESS: define('SY_ERR_PROCESS', 'runtime',
    (value: string) => `process threw ${value}, which is not an Error; throw an Error (e.g. throw new Error("why")) so the reason reaches the logs and the dead-letter headers`,
    { means: 'A process threw something that is not an Error (a string, an object).', fix: 'Throw an Error, e.g. throw new Error("why"), so the reason reaches the logs and the dead-letter headers.' }),
});

// ---- api model
const apiModelErrors = section('api model', {
  SY_ERR_API_DEFINITION: define('SY_ERR_API_DEFINITION', 'usage',
    (api: string, why: string) => `API "${api}" is not defined correctly: ${why}`,
    { means: 'An API declaration (defineApi) is not valid: its name, members or schemas.', fix: 'Fix the declaration as the message says.' }),
  SY_ERR_API_UNKNOWN: define('SY_ERR_API_UNKNOWN', 'usage',
    (what: string, fix: string) => `${what}; ${fix}`,
    { means: 'An API, RPC or event that is not declared was used.', fix: 'Use one of the names the message lists, or declare it.' }),
  SY_ERR_API_MAP: define('SY_ERR_API_MAP', 'usage',
    (where: string, got: string) => `${where} needs the API declarations by key as its first argument, e.g. apiService({ calc }, (bus) => { ... }) where calc = defineApi({ ... }); got ${got}`,
    { means: 'apiService() or createBus() was given something other than API declarations by key, e.g. apiService({ apis: { calc } }, ...).', fix: 'Pass the declarations directly: apiService({ calc }, (bus) => { ... }).' }),
  SY_ERR_LISTENER: define('SY_ERR_LISTENER', 'usage',
    (listener: string, why: string) => `listener "${listener}": ${why}`,
    { means: 'A listener cannot be registered (no or bad listenerName, used twice, no events).', fix: 'Give each listener a unique listenerName of letters, digits, ".", "_" and "-".' }),
  SY_ERR_SCHEDULE: define('SY_ERR_SCHEDULE', 'usage',
    (what: string, why: string) => `schedule ${what}: ${why}`,
    { means: 'A scheduled task (every / cron) is not valid.', fix: 'Give a positive interval or a valid cron expression.' }),
  SY_ERR_BUS_STATE: define('SY_ERR_BUS_STATE', 'usage',
    (what: string, fix: string) => `${what}; ${fix}`,
    { means: 'The bus was used in a state that does not allow it (not started, already stopping).', fix: 'Start the bus before calling, and start it once.' }),
  SY_ERR_BUS_CALL: define('SY_ERR_BUS_CALL', 'usage',
    (what: string, why: string) => `${what} could not be read: ${why}; it was not run`,
    { means: 'An RPC call arriving on the bus could not be read; it was not run.', fix: 'Check the calling side speaks the same bus protocol and version.' }),
  SY_ERR_BUS_FRAME: define('SY_ERR_BUS_FRAME', 'runtime',
    (what: string, why: string) => `a ${what} on the bus could not be read: ${why}; it was set aside (the sender does not speak the bus protocol or is a different version)`,
    { means: 'An entry on the bus (an event or a call) could not be read and was set aside.', fix: 'Check the sender speaks the Lightbus protocol at a compatible version.' }),
  /**
   * An RPC that failed on the serving side: the caller gets the remote error's type and
   * message (from its Python-style description, `ValueError('bad')`) and trace as fields.
   */
  SY_ERR_RPC_REMOTE: rpcRemoteError({
    means: 'An RPC failed on the serving side; the error carries the remote type, message and trace (RemoteError).',
    fix: 'Look at the serving side\'s error; handle it in the caller if it is expected.',
  }),
});

// ---- service model
const serviceModelErrors = section('service model', {
  SY_ERR_SERVICE_DEFINITION: define('SY_ERR_SERVICE_DEFINITION', 'usage',
    (where: string, what: string) => `service definition ${where} is not valid: ${what}`,
    { means: 'A service definition is not valid (a connection or state model with unknown keys or wrong values).', fix: 'Fix the model the message names.' }),
  SY_ERR_SERVICE_DEFINITIONS: define('SY_ERR_SERVICE_DEFINITIONS', 'usage',
    (names: string) => `several services in one process must have different names (got ${names}); give each service({ name: ... }) a name of its own`,
    { means: 'Several services in one process share a name.', fix: 'Give each service({ name }) a name of its own.' }),
  SY_ERR_SERVICE_ADDRESSES: define('SY_ERR_SERVICE_ADDRESSES', 'config',
    (path: string, what: string) => `addresses: ${path} ${what}; add it to addresses.json (see README "Services with connections and states")`,
    { means: 'The addresses file lacks an address the service\'s connections or states need.', fix: 'Add it to addresses.json.' }),
  SY_ERR_SERVICE_OUTPUT: define('SY_ERR_SERVICE_OUTPUT', 'usage',
    (kind: string, name: string, known: string[]) => `toSend(${JSON.stringify(kind)}, ${JSON.stringify(name)}): no outbound ${kind} of that name (known: ${known.length ? known.map((k) => JSON.stringify(k)).join(', ') : 'none'}); declare it under ${kind === 'state' ? 'states' : 'connections'}.out`,
    { means: 'toSend named an outbound connection or state the service does not declare.', fix: 'Declare it under connections.out / states.out, or fix the name (ToSendOf types toSend to catch this at compile time).' }),
  SY_ERR_SERVICE_REMOTE: define('SY_ERR_SERVICE_REMOTE', 'runtime',
    (connection: string, why: string) => `the replyer behind connection "${connection}" could not answer: ${why}`,
    { means: 'The replyer behind a connection answered with an error or an unreadable reply.', fix: 'Look at the replyer\'s log for the cause.' }),
  SY_ERR_SERVICE_MAIN_MODE: define('SY_ERR_SERVICE_MAIN_MODE', 'usage',
    (why: string) => `main mode: ${why}`,
    { means: 'Main mode (-m) cannot run as asked (no main function, inbound states).', fix: 'Add main(toSend, config), or run without -m.' }),
  SY_ERR_SERVICE_FRAME: define('SY_ERR_SERVICE_FRAME', 'usage',
    (why: string) => `bad service_framework frame: ${why}; send msgpack of {"args": {...}, "workflow_id": ...} (a reply: {"return_args": {...}, "workflow_id": ...}), after the topic's msgpack bytes when the connection has a topic`,
    { means: 'A frame from a peer is not a service_framework message.', fix: 'Send msgpack of {"args": {...}, "workflow_id": ...} after the topic when there is one.' }),
  SY_ERR_SERVICE_VALUE: define('SY_ERR_SERVICE_VALUE', 'usage',
    (what: string, fix: string) => `${what}; ${fix}`,
    { means: 'A value cannot be carried on the service wire (e.g. a number out of range, an unknown type).', fix: 'Send a value of a type the wire carries, as the message says.' }),
  SY_ERR_SERVICE_CODEC: define('SY_ERR_SERVICE_CODEC', 'config',
    (got: string) => `@msgpack/msgpack's Encoder no longer lets the service codec write a whole float as float64 (got ${got}); pin @msgpack/msgpack 3.1.x or update src/models/service/wire/codec.ts`,
    { means: 'The installed @msgpack/msgpack no longer lets the codec write whole floats as float64.', fix: 'Pin @msgpack/msgpack 3.1.x.' }),
});

// ---- task model
const taskModelErrors = section('task model', {
  SY_ERR_TASK_DECLARATION: define('SY_ERR_TASK_DECLARATION', 'usage',
    (problems: string[]) => `taskService(declaration, process) is not valid:\n  - ${problems.join('\n  - ')}`,
    { means: 'A taskService declaration is not valid.', fix: 'Fix each problem listed.' }),
  SY_ERR_TASK_INPUT: define('SY_ERR_TASK_INPUT', 'runtime',
    (why: string) => `task input rejected: ${why}`,
    { means: 'A task\'s input (POST /compute body or its files) was refused.', fix: 'Send inputs the declaration accepts.' }),
  SY_ERR_TASK_OUTPUT: define('SY_ERR_TASK_OUTPUT', 'runtime',
    (why: string) => `process returned unusable outputs: ${why}; return { [output name]: { type, data } } for every declared output, with a type the declaration allows`,
    { means: 'A task\'s process returned outputs that do not match the declaration.', fix: 'Return { [output]: { type, data } } for every declared output.' }),
  SY_ERR_TASK_SAVE: define('SY_ERR_TASK_SAVE', 'runtime',
    (output: string, why: string) => `saving output "${output}" failed: ${why}`,
    { means: 'Saving a task output to storage failed.', fix: 'Check the output storage (S3 endpoint, bucket, credentials).' }),
  SY_ERR_TASK_PROCESS: define('SY_ERR_TASK_PROCESS', 'runtime',
    (message: string) => `process failed: ${message}`,
    { means: 'The task\'s process function threw.', fix: 'See the message; fix the process or its input.' }),
  SY_ERR_TASK_CALLBACK: define('SY_ERR_TASK_CALLBACK', 'runtime',
    (url: string, why: string) => `PATCH ${redactUrl(url)} (task callback) failed: ${why}`,
    { means: 'PATCHing the task\'s callback URL failed.', fix: 'Check that the engine at the callback URL is reachable.' }),
  SY_ERR_ENGINE_REGISTRATION: define('SY_ERR_ENGINE_REGISTRATION', 'runtime',
    (engine: string, why: string) => `registering with the engine at ${redactUrl(engine)} failed: ${why}`,
    { means: 'Registering the service with the engine (POST /services) failed.', fix: 'Check the engine URL and that it runs.' }),
  SY_ERR_TASK_STATE: define('SY_ERR_TASK_STATE', 'runtime',
    (from: string, to: string) => `task status cannot move from ${from} to ${to}; the task model broke its own status machine (pending → fetching → processing → saving → finished, or error): please report this`,
    { means: 'The task model tried a status change its state machine does not allow.', fix: 'This is a bug in Switchyard: please report it.' }),
  SY_ERR_TASK_SERVICES: define('SY_ERR_TASK_SERVICES', 'usage',
    (names: string) => `one task service per process (an engine knows a service by its URL and port), got ${names}; run each in its own process with its own SERVICE_PORT`,
    { means: 'More than one task service was given to one process.', fix: 'Run each task service in its own process with its own SERVICE_PORT.' }),
});

// ---- provider model
const providerModelErrors = section('provider model', {
  SY_ERR_FRAME: define('SY_ERR_FRAME', 'usage',
    (why: string) => `bad acomm frame: ${why}; send a 4-byte big-endian length followed by that many bytes of JSON, one message per connection`,
    { means: 'An acomm frame on a unix socket is not a 4-byte length followed by that much JSON.', fix: 'Send one length-prefixed JSON message per connection.' }),
  SY_ERR_HOOK: define('SY_ERR_HOOK', 'runtime',
    (url: string, why: string) => `response hook ${redactUrl(url)} could not be used: ${why}`,
    { means: 'A response hook (where the response goes) cannot be used.', fix: 'Give a reachable unix: or http(s) hook that the allow-list permits.' }),
  SY_ERR_TASK_REGISTRATION: define('SY_ERR_TASK_REGISTRATION', 'usage',
    (task: string, why: string) => `task ${JSON.stringify(task)} cannot be registered: ${why}`,
    { means: 'A provider task cannot be registered (bad name, registered twice).', fix: 'Register each task name once with a valid name.' }),
  SY_ERR_NO_PROVIDER: define('SY_ERR_NO_PROVIDER', 'runtime',
    (task: string, dir: string, tried: number) => `no provider of task ${JSON.stringify(task)} answered in ${dir} (${tried} socket(s) tried); start a provider that registers it, or check socket_dir`,
    { means: 'No provider of the task answered in the socket directory.', fix: 'Start a provider that registers it, or check socket_dir.' }),
  SY_ERR_TASK_FAILED: define('SY_ERR_TASK_FAILED', 'runtime',
    (task: string, message: string) => `task ${JSON.stringify(task)} failed: ${message}`,
    { means: 'A provider\'s task handler failed.', fix: 'See the message from the provider.' }),
  SY_ERR_TASK_TIMEOUT: define('SY_ERR_TASK_TIMEOUT', 'runtime',
    (task: string, ms: number, fix: string) => `task ${JSON.stringify(task)} did not finish within ${ms} ms; ${fix}`,
    { means: 'A provider task did not finish in time.', fix: 'Raise the timeout the message names, or make the handler faster.' }),
  SY_ERR_PROVIDER_DEFINITIONS: define('SY_ERR_PROVIDER_DEFINITIONS', 'usage',
    (why: string) => `providers in one process: ${why}`,
    { means: 'The providers given to one process cannot run together.', fix: 'Fix what the message names (e.g. give each provider its own service name).' }),
  SY_ERR_PROVIDER_STOPPING: define('SY_ERR_PROVIDER_STOPPING', 'runtime',
    (service: string, id: string) => `provider ${service} is stopping; request ${JSON.stringify(id.slice(0, 100))} is left unacked so that the coordinator offers it to another provider`,
    { means: 'A request reached a provider that is stopping; it is left unacked.', fix: 'Nothing to do: the coordinator offers the request to another provider.' }),
  SY_ERR_REQUEST_TRACKER: define('SY_ERR_REQUEST_TRACKER', 'usage',
    (why: string) => `the request tracker ${why}`,
    { means: 'The request tracker was used in a way it does not allow.', fix: 'Follow the message.' }),
});

// ---- cli and tools
const cliAndToolsErrors = section('cli and tools', {
  SY_ERR_MODULE: define('SY_ERR_MODULE', 'usage',
    (path: string, why: string) => `module ${path} cannot be run: ${why}`,
    { means: 'A module given to the CLI cannot be run (missing, import failed, exports no service).', fix: 'Follow the message: e.g. export default a service, or add "type": "module" to package.json.' }),
  SY_ERR_USAGE: define('SY_ERR_USAGE', 'usage', (what: string) => what,
    { means: 'The command line is not valid.', fix: 'See switchyard --help.' }),
  SY_ERR_DASHBOARD_ASSETS: define('SY_ERR_DASHBOARD_ASSETS', 'config',
    (looked: string[]) => `the dashboard page is not built (looked in ${looked.join(', ')}); run \`npm run build\` in the package (it bundles web/dashboard into dist/dashboard-page)`,
    { means: 'The dashboard page is not built.', fix: 'Run npm run build in the package.' }),
  SY_ERR_DASHBOARD_REQUEST: define('SY_ERR_DASHBOARD_REQUEST', 'usage',
    (why: string) => `the dashboard refused the request: ${why}`,
    { means: 'The dashboard refused a request.', fix: 'See the reason in the message.' }),
  SY_ERR_DEAD_LETTERS_UNSUPPORTED: define('SY_ERR_DEAD_LETTERS_UNSUPPORTED', 'usage',
    (transport: string) => `transport "${transport}" keeps no dead letters this tool can reach; use memory (through the running process), amqp or redis`,
    { means: 'The transport keeps no dead letters the tool can reach.', fix: 'Use memory (through the running process), amqp or redis.' }),
  SY_ERR_TOPOLOGY_INPUT: define('SY_ERR_TOPOLOGY_INPUT', 'usage',
    (input: string, why: string) => `cannot draw the topology of ${input}: ${why}`,
    { means: 'The topology command cannot read its input.', fix: 'Give a folder or modules of services, or a system map.' }),
  SY_ERR_NO_LOCAL_BROKER: define('SY_ERR_NO_LOCAL_BROKER', 'usage',
    (stateDir: string) => `no switchyard process runs the embedded broker of ${stateDir}: start \`switchyard run\` or \`switchyard dev\` in this folder first (or give --state-dir of the folder it runs in, or --transport for a broker)`,
    { means: 'A command needs the embedded broker of this folder, and no switchyard process runs it.', fix: 'Start switchyard run or dev in this folder first, or give --state-dir of the folder it runs in, or --transport for a broker.' }),
  SY_ERR_LOCAL_BROKER_TOO_OLD: define('SY_ERR_LOCAL_BROKER_TOO_OLD', 'usage',
    (stateDir: string, what: string) => `the switchyard process running the embedded broker of ${stateDir} is older than this command and cannot ${what}: restart it with this version (or give --dashboard URL of its dashboard)`,
    { means: 'The process hosting this folder\'s embedded broker runs an older switchyard that does not answer this request.', fix: 'Restart that process with this version, or give --dashboard URL of its dashboard.' }),
  SY_ERR_UNKNOWN_QUEUE: define('SY_ERR_UNKNOWN_QUEUE', 'usage',
    (queue: string, closest: string | undefined, known: readonly string[]) =>
      `no queue ${JSON.stringify(queue)} in the running system${closest ? `; did you mean ${JSON.stringify(closest)}?` : ''} (known: ${known.length ? known.map((k) => JSON.stringify(k)).join(', ') : 'none'})`,
    { means: 'switchyard send named a queue the running system does not have (a misspelling, say).', fix: 'Use one of the queues the message lists (it suggests the closest).' }),
});

// ---- limits and outbound connections
const limitsAndOutboundConnectionsErrors = section('limits and outbound connections', {
  SY_ERR_LIMIT_EXCEEDED: define('SY_ERR_LIMIT_EXCEEDED', 'runtime',
    (what: string, limit: string, setting: string) => `${what} is over the limit of ${limit} and was refused; if it is legitimate, raise ${setting}`,
    { means: 'Something a peer sent (a message, a body, a queue\'s length) is over a limit and was refused.', fix: 'If it is legitimate, raise the setting the message names.' }),
  SY_ERR_OUTBOUND_REFUSED: define('SY_ERR_OUTBOUND_REFUSED', 'config',
    (what: string, target: string, setting: string) => `${what} ${redactUrl(target)} is not in the allow-list ${setting}; add its host, network or unix: socket folder to ${setting}, or leave ${setting} unset to allow any`,
    { means: 'A peer named a place to connect to (a hook, a callback, an S3 host) that is not in the allow-list.', fix: 'Add its host, network or unix: folder to the setting the message names, or leave it unset to allow any.' }),
});

// ---- the package and its peer dependencies
const packageErrors = section('the package and its peer dependencies', {
  SY_ERR_ZOD_VERSION: define('SY_ERR_ZOD_VERSION', 'usage',
    (place: string) => `${place} is a zod 3 schema: install zod@^4 beside switchyardjs (npm install zod@^4) and build the schema with its z (or import { z } from "switchyardjs/api"); zod 3 schemas cannot be validated or turned into JSON Schema here`,
    { means: 'A schema handed to defineApi or service() comes from zod 3 (zod is a peer dependency, ^4).', fix: 'Install zod@^4 and build the schema with its z.' }),
});

export const errors = {
  ...configurationAndSettingsErrors,
  ...transportsAndBrokersErrors,
  ...storageErrors,
  ...workerModelErrors,
  ...apiModelErrors,
  ...serviceModelErrors,
  ...taskModelErrors,
  ...providerModelErrors,
  ...cliAndToolsErrors,
  ...limitsAndOutboundConnectionsErrors,
  ...packageErrors,
} as const;

export type ErrorCode = keyof typeof errors;

/** One code as the reference page lists it. */
export interface CatalogueEntry extends ErrorDoc {
  readonly code: ErrorCode;
  readonly concern: ErrorConcern;
  /** usage and config errors exit the CLI with 2, runtime errors with 1. */
  readonly kind: ErrorKind;
}

/** Every code with its concern, kind and doc, in catalogue order. */
export function errorCatalogue(): CatalogueEntry[] {
  return Object.entries(errors).map(([code, ctor]) => ({
    code: code as ErrorCode,
    concern: (ctor as unknown as { [CONCERN]: ErrorConcern })[CONCERN],
    kind: ctor.kind,
    means: ctor.doc.means,
    fix: ctor.doc.fix,
  }));
}

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
