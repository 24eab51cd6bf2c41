// A provider (the mistifyio/provider model): tasks registered by name, each served on its
// own unix socket {socket_dir}/{task}/{priority}-{service}.sock. Per request: read it, ack
// on the same connection (or reply with why it is invalid), run the handler with the task's
// time limit, send the response to the request's response hook. Stop removes the sockets
// first (de-registration), then lets the handlers in flight finish and answer.
//
// What happens is reported on the observer stream (an Emitter; silent when nobody listens,
// and then no event is built): per request "received" once its ack is out, then "sent"
// (output "response-hook") when the hook took the response, "called" (target "response-hook")
// for the delivery with its time and any failure, then "handled" or "failed"; a
// peer's malformed frame, invalid request, refused hook or over-limit stream is "rejected";
// a request this provider sends to another task is "called" (target: the task name, from
// code). Input and output names are task names and fixed words, never what a peer sent.

import type { Logger } from '../../observability/logger.js';
import { createLogger } from '../../observability/logger.js';
import { silentEmitter, type Edge, type Emitter } from '../../observability/observer.js';
import { warnLimiter, type WarnLimiter, type WarnLimiterOptions } from '../../observability/warn-limiter.js';
import { outboundAllowList, type OutboundAllowList } from '../../runtime/outbound-allow-list.js';
import { stopOnSignals } from '../../runtime/lifecycle.js';
import type { AcommFacet } from '../../runtime/registry.js';
import { Readable } from 'node:stream';
import { errors, redactUrl } from '../../errors.js';
import * as unixTransport from '../../transports/unix/mod.js';
import type { AcommRequest, AcommResponse, ExchangeListener, ExchangeReply, FrameError, StreamSocket } from '../../transports/unix/mod.js';
import { randomUUID } from 'node:crypto';
import { describeCoordinator, isPathName, providerSettings, taskSettingsSchema, type ProviderSettings, type ProviderSettingsInput, type TaskSettings } from './settings.js';
import { ProviderLayout, RESERVED_DIRS } from './layout.js';
import { RequestTracker } from './request-tracker.js';
import { CoordinatorClient } from './coordinator-client.js';
import { HandlerContext, notJsonWhy, resultJson, runHandler, type HandlerOutcome, type StreamResult, type TaskContext, type TaskHandler, type TaskRequest } from './task-handler.js';

/** The output a response delivered to its hook is reported on. */
export const RESPONSE_HOOK_OUTPUT = 'response-hook';
/** The output a stream answer's socket is reported on (in "handled"'s produced). */
export const STREAM_OUTPUT = 'stream-socket';

export interface ProviderOptions {
  /** Default: a pino logger at the settings' log_level, writing to stderr. */
  readonly logger?: Logger;
  /** Where the provider reports what happens (the runtime's observer). Default: nowhere. */
  readonly emitter?: Emitter;
  /** The unix transport's acomm functions, as the registry opened them. Default: transports/unix. */
  readonly acomm?: AcommFacet;
  /** How long stop() waits for stream sockets nobody has read yet. Default 5000 ms. */
  readonly streamGraceMs?: number;
  /** How long a stream socket waits for its reader. Default: stream_idle_timeout (60 s). */
  readonly streamIdleMs?: number;
  /** Rate limit of warnings about what peers send (bad frames, refused hooks): per kind, `burst` lines per `windowMs`. Default 5 per 10 s. */
  readonly peerWarnings?: WarnLimiterOptions;
  /**
   * This process is copy N (1-based) of a node:cluster group (`switchyard provider run
   * --instances`): its task sockets are shared with the other copies (the supervising
   * primary prepared their paths), and its response socket is its own,
   * {socket_dir}/response/{service_name}.{N}.sock, since a response must reach the copy
   * that asked.
   */
  readonly instance?: number;
}

interface Registered {
  readonly name: string;
  readonly handler: TaskHandler;
}

/** The service name of settings given in code, or SY_ERR_SETTINGS saying how to give one. */
function serviceNameOf(settings: ProviderSettings): string {
  if (settings.service_name === undefined || settings.service_name === '') {
    throw new errors.SY_ERR_SETTINGS('provider.service_name is missing: set --service-name (-n, --service_name), SWITCHYARD_PROVIDER_SERVICE_NAME or "service_name" in the config file, or name the provider in defineProvider(name, ...)');
  }
  return settings.service_name;
}

export class Provider {
  readonly settings: ProviderSettings;
  /** Socket paths and per-task values, from the settings and the tasks' registration options. */
  readonly layout: ProviderLayout;
  readonly log: Logger;
  /** Tracks requests this provider sends to other tasks; its socket is {socket_dir}/response/{service}.sock. */
  readonly tracker: RequestTracker;
  private readonly acomm: AcommFacet;
  private readonly emitter: Emitter;
  private readonly tasks = new Map<string, Registered>();
  private readonly listeners = new Map<string, ExchangeListener>();
  /** Requests acked (or being acked) whose handler and response are not done yet. */
  private active = 0;
  /** stop() waiting for `active` to reach 0. */
  private readonly idle: Array<() => void> = [];
  private readonly settledFn = () => this.settled();
  /** The one function handlers get as context.request. */
  private readonly requestFn: TaskContext['request'] = (t, args, o) => this.request(t, args, o);
  private readonly streams = new Set<StreamSocket>();
  private coordinator: CoordinatorClient | undefined;
  /** Warnings a peer can cause, rate-limited per kind so bad input cannot flood the log. */
  private readonly peerWarn: WarnLimiter;
  /** response_hook_allow; undefined when unset (any hook, as the original). */
  private readonly hookAllow: OutboundAllowList | undefined;
  /** Stream sockets opened or being opened and not yet read (bounded by max_open_streams). */
  private openStreams = 0;
  private state: 'new' | 'starting' | 'started' | 'stopping' | 'stopped' = 'new';
  private stopping: Promise<void> | undefined;

  /** `settings`: the provider section's keys (service_name required), checked by the section. */
  constructor(settings: ProviderSettingsInput | ProviderSettings, private readonly options: ProviderOptions = {}) {
    this.settings = providerSettings(settings);
    this.layout = new ProviderLayout(this.settings, serviceNameOf(this.settings));
    this.acomm = options.acomm ?? unixTransport;
    this.emitter = options.emitter ?? silentEmitter;
    this.log = options.logger ?? createLogger({ level: this.settings.log_level, service: this.serviceName, destination: 2 });
    this.peerWarn = warnLimiter(this.log, options.peerWarnings);
    this.hookAllow = outboundAllowList(this.settings.response_hook_allow, 'response_hook_allow');
    this.tracker = new RequestTracker({
      socketPath: this.layout.responseSocketPath(options.instance),
      defaultTimeoutMs: this.layout.requestTimeoutMs,
      mode: this.layout.socketMode,
      maxFrameBytes: this.settings.max_frame_bytes,
      logger: this.log,
      listenResponses: this.acomm.listenResponses,
    });
  }

  get serviceName(): string {
    return this.layout.serviceName;
  }

  /**
   * Adds a task; its socket appears on start(). Optional per-task priority and timeout
   * (seconds) are defaults in code: the settings' tasks.{name} entries win over them.
   */
  registerTask(name: string, handler: TaskHandler, options: TaskSettings = {}): this {
    if (this.state !== 'new') throw new errors.SY_ERR_TASK_REGISTRATION(name, 'the provider is already started; register every task before start()');
    if (!isPathName(name)) throw new errors.SY_ERR_TASK_REGISTRATION(name, 'a task name is a folder name under socket_dir: use letters, digits, ".", "_" and "-" only');
    if ((RESERVED_DIRS as readonly string[]).includes(name)) throw new errors.SY_ERR_TASK_REGISTRATION(name, `"${name}" is a folder the provider uses itself under socket_dir; pick another name`);
    if (this.tasks.has(name)) throw new errors.SY_ERR_TASK_REGISTRATION(name, 'a task of that name is already registered');
    if (typeof handler !== 'function') throw new errors.SY_ERR_TASK_REGISTRATION(name, 'the handler is not a function');
    const checked = taskSettingsSchema.safeParse(options);
    if (!checked.success) {
      const why = checked.error.issues.map((i) => `${i.path.map(String).join('.') || 'options'} ${i.message}`).join('; ');
      throw new errors.SY_ERR_TASK_REGISTRATION(name, `its options are not valid: ${why} (use { priority: whole number ≥ 0, timeout: seconds ≥ 0 })`);
    }
    this.layout.setCodeDefaults(name, checked.data);
    this.tasks.set(name, { name, handler });
    return this;
  }

  registeredTasks(): string[] {
    return [...this.tasks.keys()];
  }

  taskSocketPath(task: string): string {
    return this.layout.taskSocketPath(task);
  }

  /** What the provider serves and sends to, for the topology: its task sockets, the coordinator and response hooks. */
  edges(): { readonly inputs: readonly Edge[]; readonly outputs: readonly Edge[] } {
    return {
      inputs: this.registeredTasks().map((name) => ({ kind: 'socket' as const, name })),
      outputs: [
        { kind: 'unix', name: 'coordinator', label: describeCoordinator(this.settings) },
        { kind: 'unix', name: RESPONSE_HOOK_OUTPUT },
      ],
    };
  }

  /** Starts the tracker, then one listener per task. If one fails, the ones started are closed. */
  async start(): Promise<this> {
    if (this.state !== 'new') throw new errors.SY_ERR_USAGE(`provider "${this.serviceName}" was already started; make a new provider(settings)`);
    if (this.tasks.size === 0) throw new errors.SY_ERR_USAGE(`provider "${this.serviceName}" has no tasks; call registerTask(name, handler) before start()`);
    this.state = 'starting';
    try {
      await this.tracker.start();
      for (const task of this.tasks.values()) {
        const listener = await this.acomm.listenExchanges({
          path: this.taskSocketPath(task.name),
          shared: this.options.instance !== undefined,
          mode: this.layout.socketMode,
          maxFrameBytes: this.settings.max_frame_bytes,
          handle: (message) => this.accept(task, message),
          onFrameError: (err) => this.badFrame(task, err),
          onError: (err) => this.log.debug({ task: task.name, err: err.message }, 'task socket connection failed'),
        });
        this.listeners.set(task.name, listener);
        if (listener.replacedStale) this.log.warn({ task: task.name, socket: listener.path }, 'replaced a stale socket left by a process that is gone');
        this.log.info({ task: task.name, socket: listener.path, priority: this.layout.taskPriority(task.name) }, 'task registered');
      }
    } catch (err) {
      this.state = 'stopping';
      await Promise.all([...this.listeners.values()].map((l) => l.close()));
      this.listeners.clear();
      await this.tracker.stop();
      this.state = 'stopped';
      throw err;
    }
    this.state = 'started';
    return this;
  }

  /** A peer's input refused before it became a request: reported, and warned about (rate-limited). */
  private rejected(task: Registered, reason: string): void {
    if (this.emitter.active) this.emitter.emit({ type: 'rejected', input: task.name, reason });
  }

  /** A frame that could not be read: answered with why, then closed. */
  private badFrame(task: Registered, err: FrameError): string {
    this.rejected(task, `bad frame: ${err.problem}`);
    this.peerWarn.warn(`bad-frame:${err.problem}`, { task: task.name, problem: err.problem, err: err.message }, 'bad frame on a task socket; answered and closed');
    return this.acomm.encodeResponse(this.acomm.replyTo('', err.message));
  }

  /**
   * Steps 1–3 of SPECS.md §4.3 on the task socket: read, check, ack. The handler runs once
   * the ack is written in full (never when the requester could not have received it, so a
   * coordinator that fails over never makes it run twice). Throwing closes the connection
   * unanswered.
   */
  private accept(task: Registered, message: unknown): ExchangeReply | Promise<ExchangeReply> {
    const acomm = this.acomm;
    let req: AcommRequest;
    try {
      req = acomm.decodeRequest(message);
    } catch (err) {
      this.rejected(task, 'invalid request');
      return acomm.encodeResponse(acomm.replyTo(requestIdOf(message), `invalid request: ${(err as Error).message}`));
    }
    const invalid = acomm.validateRequest(req);
    if (invalid !== '') {
      this.rejected(task, 'invalid request');
      return acomm.encodeResponse(acomm.replyTo(req.id, invalid));
    }
    // The Go provider never compares the two: each socket runs its own handler, whatever task
    // the request names. So does this one (the handler sees the task as sent), with a warning.
    if (req.task !== task.name) {
      this.peerWarn.warn(`task-mismatch:${task.name}`, { task: task.name, requested: req.task.slice(0, 100), id: req.id.slice(0, 100) }, 'a request naming another task came to this task\'s socket; running this task\'s handler, as the Go provider does');
    }
    // response_hook_allow: a hook outside the list is refused in the ack, before anything runs or connects.
    if (this.hookAllow) {
      const hook = req.responseHook!;
      return this.hookAllow.check(hook, 'response hook').then(
        () => this.admit(task, req as TaskRequest),
        (err: Error) => {
          this.rejected(task, 'response hook not allowed');
          this.peerWarn.warn('hook-refused', { task: task.name, id: req.id.slice(0, 100), hook: redactUrl(hook).slice(0, 200) }, 'refused a request whose response hook is not in response_hook_allow');
          return acomm.encodeResponse(acomm.replyTo(req.id, err.message));
        },
      );
    }
    return this.admit(task, req as TaskRequest);
  }

  /** The ack of a valid request, which starts its handler once written. */
  private admit(task: Registered, req: TaskRequest): ExchangeReply {
    // Accepted just before the socket closed: no ack, so the coordinator fails over to another provider.
    if (this.state === 'stopping' || this.state === 'stopped') throw new errors.SY_ERR_PROVIDER_STOPPING(this.serviceName, req.id);
    // Counted from now on, so stop() waits for it even before the ack is out.
    this.active++;
    return {
      json: this.acomm.encodeAck(req.id),
      written: (ok) => {
        if (!ok) {
          this.log.debug({ task: task.name, id: req.id }, 'the ack could not be written (the requester is gone); the handler does not run');
          return this.settled();
        }
        this.handle(task, req).then(this.settledFn, this.settledFn);
      },
    };
  }

  /** One request fewer in flight; wakes stop() when none is left. */
  private settled(): void {
    if (--this.active === 0 && this.idle.length > 0) for (const wake of this.idle.splice(0)) wake();
  }

  /** Steps 4–5: runs the handler, then sends its response to the request's hook. */
  private async handle(task: Registered, req: TaskRequest): Promise<void> {
    const base = this.log;
    const emitter = this.emitter;
    const started = performance.now();
    if (emitter.active) emitter.emit({ type: 'received', input: task.name, id: req.id, attempt: 1 });
    const context = new HandlerContext(base, task.name, req.id, this.requestFn);
    const run = runHandler(task.handler, req, context, this.layout.taskTimeoutMs(task.name), task.name);
    const outcome: HandlerOutcome = run instanceof Promise ? await run : run;
    const encodeResponse = this.acomm.encodeResponse;
    let json: string;
    /** Why the request failed ("" = it did not), for the log and the observer. */
    let failure = '';
    let failureCode: string | undefined;
    let streamed = false;
    if (outcome.kind === 'error') {
      failure = outcome.error;
      if (outcome.timedOut) failureCode = 'SY_ERR_TASK_TIMEOUT';
      json = encodeResponse({ id: req.id, result: null, streamUrl: null, error: outcome.error });
      context.log[outcome.timedOut ? 'warn' : 'info']({ err: outcome.error }, outcome.timedOut ? 'task timed out' : 'task failed');
    } else if (outcome.kind === 'stream') {
      const response = await this.streamResponse(task, req, outcome.stream);
      failure = response.error;
      streamed = response.error === '';
      json = encodeResponse(response);
    } else {
      // Written once: a result that cannot be JSON (a cycle) is caught here.
      try {
        json = encodeResponse({ id: req.id, result: outcome.result, streamUrl: null, error: '' });
      } catch (err) {
        failure = notJsonWhy(err);
        json = encodeResponse({ id: req.id, result: null, streamUrl: null, error: failure });
      }
    }
    if (base.isLevelEnabled('debug')) context.log.debug({ ms: Math.round(performance.now() - started), ok: failure === '' }, 'task done');
    let delivered = false;
    let hookFailure = '';
    const sending = emitter.active ? performance.now() : 0;
    try {
      const hookError = await this.acomm.sendTo(req.responseHook, json, { maxFrameBytes: this.settings.max_frame_bytes });
      if (hookError !== '') {
        this.peerWarn.warn('hook-error', { task: task.name, id: req.id, hook: redactUrl(req.responseHook), err: hookError.slice(0, 500) }, 'the response hook refused the response');
        hookFailure = `the response hook refused the response: ${hookError.slice(0, 200)}`;
      } else {
        delivered = true;
      }
    } catch (err) {
      this.peerWarn.warn('hook-unreachable', { task: task.name, id: req.id, hook: redactUrl(req.responseHook), err: (err as Error).message }, 'could not deliver the response to its hook');
      hookFailure = `the response could not be delivered to its hook: ${(err as Error).message}`;
    }
    if (emitter.active) {
      // The delivery is an outbound call of its own (its time, its failures), to the fixed target "response-hook".
      emitter.emit({ type: 'called', target: RESPONSE_HOOK_OUTPUT, id: req.id, durationMs: performance.now() - sending, ...(hookFailure !== '' ? { error: { message: hookFailure } } : {}) });
      this.reportEnd(task, req, started, delivered, failure !== '' ? failure : hookFailure, failureCode, streamed);
    }
  }

  /** The end of one request on the observer stream: the hook's delivery, then handled or failed (never retried: acomm has no redelivery). */
  private reportEnd(task: Registered, req: TaskRequest, started: number, delivered: boolean, failure: string, code: string | undefined, streamed: boolean): void {
    const emitter = this.emitter;
    if (delivered) emitter.emit({ type: 'sent', output: RESPONSE_HOOK_OUTPUT, id: req.id });
    const durationMs = performance.now() - started;
    if (failure === '') {
      emitter.emit({ type: 'handled', input: task.name, id: req.id, durationMs, ...(streamed ? { produced: [{ output: STREAM_OUTPUT, id: req.id }] } : {}) });
    } else {
      emitter.emit({ type: 'failed', input: task.name, id: req.id, durationMs, error: code !== undefined ? { code, message: failure } : { message: failure } });
    }
  }

  /** The response to a stream answer: a single-use stream socket's URL, or why there is none. */
  private async streamResponse(task: Registered, req: TaskRequest, stream: StreamResult): Promise<AcommResponse> {
    const checked = resultJson(stream.result);
    const limit = this.settings.max_open_streams;
    // Each unread stream holds a socket, a descriptor and its source until read or expired:
    // requesters that never read cannot make them pile up past max_open_streams.
    if (this.openStreams >= limit) {
      if (stream.source instanceof Readable) stream.source.destroy();
      const err = new errors.SY_ERR_LIMIT_EXCEEDED(`the stream answer of task ${JSON.stringify(task.name)} (${this.openStreams} stream sockets are open and unread)`, String(limit), 'max_open_streams');
      this.rejected(task, 'over max_open_streams');
      this.peerWarn.warn('stream-limit', { task: task.name, open: this.openStreams, limit }, 'refused a stream answer: too many stream sockets unread');
      return { id: req.id, result: null, streamUrl: null, error: err.message };
    }
    if (!checked.ok) {
      if (stream.source instanceof Readable) stream.source.destroy();
      return { id: req.id, result: null, streamUrl: null, error: checked.why };
    }
    this.openStreams++;
    try {
      const s = await this.acomm.openStreamSocket(this.layout.streamDir(task.name), stream.source, {
        mode: this.layout.socketMode,
        idleTimeoutMs: this.options.streamIdleMs ?? this.layout.streamIdleMs,
        onError: (err) => this.peerWarn.warn('stream-failed', { task: task.name, err: err.message }, 'stream failed'),
      });
      this.streams.add(s);
      void s.done.then((written) => {
        this.streams.delete(s);
        this.openStreams--;
        if (!written) this.peerWarn.warn('stream-unread', { task: task.name, stream: s.path }, 'stream socket removed unread');
      });
      return { id: req.id, result: stream.result ?? null, streamUrl: s.url, error: '' };
    } catch (err) {
      this.openStreams--;
      if (stream.source instanceof Readable) stream.source.destroy();
      return { id: req.id, result: null, streamUrl: null, error: (err as Error).message };
    }
  }

  /**
   * Requests another task through the coordinator: to coordinator_url when set (acomm Send,
   * response to this provider's tracker), else straight from the socket folder with the
   * built-in coordinator client (same tracker). Reported as "called" with the task as target.
   */
  async request(task: string, args: unknown = null, options: { timeoutMs?: number } = {}): Promise<{ result: unknown; streamUrl: string | null }> {
    if (!this.emitter.active) return this.requestOnce(task, randomUUID(), args, options);
    const id = randomUUID();
    const started = performance.now();
    try {
      const answer = await this.requestOnce(task, id, args, options);
      this.emitter.emit({ type: 'called', target: task, id, durationMs: performance.now() - started });
      return answer;
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      this.emitter.emit({
        type: 'called', target: task, id, durationMs: performance.now() - started,
        error: typeof e.code === 'string' ? { code: e.code, message: String(e.message) } : { message: String(e.message ?? err) },
      });
      throw err;
    }
  }

  private async requestOnce(task: string, id: string, args: unknown, options: { timeoutMs?: number }): Promise<{ result: unknown; streamUrl: string | null }> {
    if (!this.tracker.started) throw new errors.SY_ERR_USAGE('the provider is not started; requests to other tasks need its response hook');
    const timeoutMs = options.timeoutMs ?? this.layout.requestTimeoutMs;
    const coordinatorUrl = this.settings.coordinator_url;
    if (coordinatorUrl === undefined) {
      this.coordinator ??= new CoordinatorClient({ socketDir: this.layout.socketDir, tracker: this.tracker, logger: this.log });
      const r = await this.coordinator.request(task, args, { timeoutMs, id });
      return { result: r.result, streamUrl: r.streamUrl };
    }
    const answer = this.tracker.track(id, timeoutMs);
    let ackError: string;
    try {
      ackError = await this.acomm.sendTo(coordinatorUrl, this.acomm.encodeRequest({ id, task, responseHook: this.tracker.url, args }), { maxFrameBytes: this.settings.max_frame_bytes });
    } catch (err) {
      this.tracker.remove(id);
      throw new errors.SY_ERR_TASK_FAILED(task, `the coordinator at ${redactUrl(coordinatorUrl)} could not be reached: ${(err as Error).message}`);
    }
    if (ackError !== '') {
      this.tracker.remove(id);
      throw new errors.SY_ERR_TASK_FAILED(task, `the coordinator refused the request: ${ackError}`);
    }
    const { response, timedOut } = await answer;
    if (timedOut) throw new errors.SY_ERR_TASK_TIMEOUT(task, timeoutMs, 'raise request_timeout, or check the coordinator');
    if (response.error !== '') throw new errors.SY_ERR_TASK_FAILED(task, response.error);
    return { result: response.result, streamUrl: response.streamUrl };
  }

  /** Removes every task socket, waits for handlers in flight to answer, then stops the tracker. */
  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      this.state = 'stopping';
      await Promise.all([...this.listeners.values()].map((l) => l.close()));
      this.listeners.clear();
      while (this.active > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
      // Streams already announced get a short grace to be read; then they are removed.
      const grace = this.options.streamGraceMs ?? 5_000;
      if (this.streams.size > 0) {
        await Promise.race([Promise.all([...this.streams].map((s) => s.done)), new Promise((r) => setTimeout(r, grace).unref())]);
        for (const s of this.streams) s.close();
      }
      await this.tracker.stop();
      this.peerWarn.flush();
      this.state = 'stopped';
      this.log.info('provider stopped; its task sockets are removed');
    })());
  }

  /**
   * For a program that runs a provider by itself (without `switchyard provider run`): waits
   * for one of `signals` (default SIGINT and SIGTERM; SIGKILL cannot be caught), then stops,
   * through the runtime's one signal handling (runtime/lifecycle.ts). Resolves with the
   * signal once stopped; a second signal exits at once.
   */
  stopOnSignal(...signals: NodeJS.Signals[]): Promise<NodeJS.Signals> {
    // SIGKILL and SIGSTOP cannot be caught (Node refuses listeners for them); the original's default list names Kill all the same.
    const list: NodeJS.Signals[] = (signals.length > 0 ? signals : (['SIGINT', 'SIGTERM'] as NodeJS.Signals[])).filter((s) => s !== 'SIGKILL' && s !== 'SIGSTOP');
    if (list.length === 0) return Promise.reject(new errors.SY_ERR_USAGE('stopOnSignal needs a signal that can be caught (SIGKILL and SIGSTOP cannot)'));
    return new Promise((resolve, reject) => {
      let got: NodeJS.Signals = list[0]!;
      const handle = stopOnSignals(this, {
        signals: list,
        onFirstSignal: (signal) => {
          got = signal;
          this.log.info({ signal }, 'stopping: task sockets removed, finishing requests in flight');
        },
        onSecondSignal: (signal) => this.log.warn({ signal }, 'second signal: exiting now'),
        onStopError: (err) => {
          handle.remove();
          reject(err as Error);
        },
        // The clean stop resolves (the program goes on); only a second signal exits.
        exit: (code) => {
          if (code === 0) {
            handle.remove();
            resolve(got);
          } else if (code !== 1) {
            process.exit(code);
          }
        },
      });
    });
  }
}

function requestIdOf(message: unknown): string {
  return message !== null && typeof message === 'object' && typeof (message as { id?: unknown }).id === 'string' ? (message as { id: string }).id : '';
}

/** A provider for `settings` (the provider section's keys; service_name required). */
export function provider(settings: ProviderSettingsInput | ProviderSettings, options: ProviderOptions = {}): Provider {
  return new Provider(settings, options);
}
