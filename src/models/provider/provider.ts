// A provider (the mistifyio/provider model): tasks registered by name, each served on its
// own unix socket {socket_dir}/{task}/{priority}-{service}.sock. Per request: read it, ack
// on the same connection (or reply with why it is invalid), run the handler with the task's
// time limit, send the response to the request's response hook. Stop removes the sockets
// first (de-registration), then lets the handlers in flight finish and answer.

import type { Logger } from '../../observability/logger.js';
import { createLogger } from '../../observability/logger.js';
import { warnLimiter, type WarnLimiter, type WarnLimiterOptions } from '../../observability/warn-limiter.js';
import { outboundAllowList, type OutboundAllowList } from '../../runtime/outbound-allow-list.js';
import { Readable } from 'node:stream';
import { errors, redactUrl } from '../../errors.js';
import {
  decodeRequest, encodeAck, encodeRequest, encodeResponse, listenExchanges, openStreamSocket, replyTo, sendTo, validateRequest,
  type AcommRequest, type AcommResponse, type ExchangeListener, type ExchangeReply, type StreamSocket,
} from '../../transports/unix/mod.js';
import { randomUUID } from 'node:crypto';
import { ProviderConfig, RESERVED_DIRS, isPathName, type ProviderConfigInput, type TaskConfigData } from './config.js';
import { RequestTracker } from './request-tracker.js';
import { CoordinatorClient } from './coordinator-client.js';
import { HandlerContext, notJsonWhy, resultJson, runHandler, type HandlerOutcome, type StreamResult, type TaskContext, type TaskHandler, type TaskRequest } from './task-handler.js';

export interface ProviderOptions {
  /** Default: a pino logger at the config's log_level, writing to stderr. */
  readonly logger?: Logger;
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

export class Provider {
  readonly config: ProviderConfig;
  readonly log: Logger;
  /** Tracks requests this provider sends to other tasks; its socket is {socket_dir}/response/{service}.sock. */
  readonly tracker: RequestTracker;
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

  constructor(config: ProviderConfig | ProviderConfigInput, private readonly options: ProviderOptions = {}) {
    this.config = (config instanceof ProviderConfig ? config : new ProviderConfig(config)).validate();
    this.log = options.logger ?? createLogger({ level: this.config.logLevel, service: this.config.serviceName, destination: 2 });
    this.peerWarn = warnLimiter(this.log, options.peerWarnings);
    this.hookAllow = outboundAllowList(this.config.responseHookAllow, 'response_hook_allow');
    this.tracker = new RequestTracker({
      socketPath: options.instance === undefined ? this.config.responseSocketPath : this.config.responseSocketPath.replace(/\.sock$/, `.${options.instance}.sock`),
      defaultTimeoutMs: this.config.requestTimeoutMs,
      mode: this.config.socketMode,
      maxFrameBytes: this.config.maxFrameBytes,
      logger: this.log,
    });
  }

  /**
   * Adds a task; its socket appears on start(). Optional per-task priority and timeout
   * (seconds) are defaults in code: the configuration's tasks.{name} entries win over them.
   */
  registerTask(name: string, handler: TaskHandler, options: TaskConfigData = {}): this {
    if (this.state !== 'new') throw new errors.SY_ERR_TASK_REGISTRATION(name, 'the provider is already started; register every task before start()');
    if (!isPathName(name)) throw new errors.SY_ERR_TASK_REGISTRATION(name, 'a task name is a folder name under socket_dir: use letters, digits, ".", "_" and "-" only');
    if ((RESERVED_DIRS as readonly string[]).includes(name)) throw new errors.SY_ERR_TASK_REGISTRATION(name, `"${name}" is a folder the provider uses itself under socket_dir; pick another name`);
    if (this.tasks.has(name)) throw new errors.SY_ERR_TASK_REGISTRATION(name, 'a task of that name is already registered');
    if (typeof handler !== 'function') throw new errors.SY_ERR_TASK_REGISTRATION(name, 'the handler is not a function');
    if (options.priority !== undefined || options.timeout !== undefined) {
      const tasks = { ...this.config.data.tasks, [name]: { ...options, ...this.config.data.tasks[name] } };
      (this as { config: ProviderConfig }).config = new ProviderConfig({ ...this.config.data, tasks }).validate();
    }
    this.tasks.set(name, { name, handler });
    return this;
  }

  registeredTasks(): string[] {
    return [...this.tasks.keys()];
  }

  taskSocketPath(task: string): string {
    return this.config.taskSocketPath(task);
  }

  /** Starts the tracker, then one listener per task. If one fails, the ones started are closed. */
  async start(): Promise<this> {
    if (this.state !== 'new') throw new errors.SY_ERR_USAGE(`provider "${this.config.serviceName}" was already started; make a new provider(config)`);
    if (this.tasks.size === 0) throw new errors.SY_ERR_USAGE(`provider "${this.config.serviceName}" has no tasks; call registerTask(name, handler) before start()`);
    this.state = 'starting';
    try {
      await this.tracker.start();
      for (const task of this.tasks.values()) {
        const listener = await listenExchanges({
          path: this.taskSocketPath(task.name),
          shared: this.options.instance !== undefined,
          mode: this.config.socketMode,
          maxFrameBytes: this.config.maxFrameBytes,
          handle: (message) => this.accept(task, message),
          onFrameError: (err) => {
            this.peerWarn.warn(`bad-frame:${err.problem}`, { task: task.name, problem: err.problem, err: err.message }, 'bad frame on a task socket; answered and closed');
            return encodeResponse(replyTo('', err.message));
          },
          onError: (err) => this.log.debug({ task: task.name, err: err.message }, 'task socket connection failed'),
        });
        this.listeners.set(task.name, listener);
        if (listener.replacedStale) this.log.warn({ task: task.name, socket: listener.path }, 'replaced a stale socket left by a process that is gone');
        this.log.info({ task: task.name, socket: listener.path, priority: this.config.taskPriority(task.name) }, 'task registered');
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

  /**
   * Steps 1–3 of SPECS.md §4.3 on the task socket: read, check, ack. The handler runs once
   * the ack is written in full (never when the requester could not have received it, so a
   * coordinator that fails over never makes it run twice). Throwing closes the connection
   * unanswered.
   */
  private accept(task: Registered, message: unknown): ExchangeReply | Promise<ExchangeReply> {
    let req: AcommRequest;
    try {
      req = decodeRequest(message);
    } catch (err) {
      return encodeResponse(replyTo(requestIdOf(message), `invalid request: ${(err as Error).message}`));
    }
    const invalid = validateRequest(req);
    if (invalid !== '') return encodeResponse(replyTo(req.id, invalid));
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
          this.peerWarn.warn('hook-refused', { task: task.name, id: req.id.slice(0, 100), hook: redactUrl(hook).slice(0, 200) }, 'refused a request whose response hook is not in response_hook_allow');
          return encodeResponse(replyTo(req.id, err.message));
        },
      );
    }
    return this.admit(task, req as TaskRequest);
  }

  /** The ack of a valid request, which starts its handler once written. */
  private admit(task: Registered, req: TaskRequest): ExchangeReply {
    // Accepted just before the socket closed: no ack, so the coordinator fails over to another provider.
    if (this.state === 'stopping' || this.state === 'stopped') throw new Error(`provider ${this.config.serviceName} is stopping; request ${req.id} left unacked for another provider`);
    // Counted from now on, so stop() waits for it even before the ack is out.
    this.active++;
    return {
      json: encodeAck(req.id),
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

  private async handle(task: Registered, req: TaskRequest): Promise<void> {
    const base = this.log;
    const context = new HandlerContext(base, task.name, req.id, this.requestFn);
    const timeoutMs = this.config.taskTimeoutMs(task.name);
    const started = performance.now();
    const run = runHandler(task.handler, req, context, timeoutMs, task.name);
    const outcome: HandlerOutcome = run instanceof Promise ? await run : run;
    let json: string;
    let ok = true;
    if (outcome.kind === 'error') {
      ok = false;
      json = encodeResponse({ id: req.id, result: null, streamUrl: null, error: outcome.error });
      context.log[outcome.timedOut ? 'warn' : 'info']({ err: outcome.error }, outcome.timedOut ? 'task timed out' : 'task failed');
    } else if (outcome.kind === 'stream') {
      const response = await this.streamResponse(task, req, outcome.stream);
      ok = response.error === '';
      json = encodeResponse(response);
    } else {
      // Written once: a result that cannot be JSON (a cycle) is caught here.
      try {
        json = encodeResponse({ id: req.id, result: outcome.result, streamUrl: null, error: '' });
      } catch (err) {
        ok = false;
        json = encodeResponse({ id: req.id, result: null, streamUrl: null, error: notJsonWhy(err) });
      }
    }
    if (base.isLevelEnabled('debug')) context.log.debug({ ms: Math.round(performance.now() - started), ok }, 'task done');
    try {
      const hookError = await sendTo(req.responseHook, json, { maxFrameBytes: this.config.maxFrameBytes });
      if (hookError !== '') this.peerWarn.warn('hook-error', { task: task.name, id: req.id, hook: redactUrl(req.responseHook), err: hookError.slice(0, 500) }, 'the response hook refused the response');
    } catch (err) {
      this.peerWarn.warn('hook-unreachable', { task: task.name, id: req.id, hook: redactUrl(req.responseHook), err: (err as Error).message }, 'could not deliver the response to its hook');
    }
  }

  /** The response to a stream answer: a single-use stream socket's URL, or why there is none. */
  private async streamResponse(task: Registered, req: TaskRequest, stream: StreamResult): Promise<AcommResponse> {
    const checked = resultJson(stream.result);
    const limit = this.config.maxOpenStreams;
    // Each unread stream holds a socket, a descriptor and its source until read or expired:
    // requesters that never read cannot make them pile up past max_open_streams.
    if (this.openStreams >= limit) {
      if (stream.source instanceof Readable) stream.source.destroy();
      const err = new errors.SY_ERR_LIMIT_EXCEEDED(`the stream answer of task ${JSON.stringify(task.name)} (${this.openStreams} stream sockets are open and unread)`, String(limit), 'max_open_streams');
      this.peerWarn.warn('stream-limit', { task: task.name, open: this.openStreams, limit }, 'refused a stream answer: too many stream sockets unread');
      return { id: req.id, result: null, streamUrl: null, error: err.message };
    }
    this.openStreams++;
    try {
      if (!checked.ok) throw new Error(checked.why);
      const s = await openStreamSocket(this.config.streamDir(task.name), stream.source, {
        mode: this.config.socketMode,
        idleTimeoutMs: this.options.streamIdleMs ?? this.config.streamIdleMs,
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
   * built-in coordinator client (same tracker).
   */
  async request(task: string, args: unknown = null, options: { timeoutMs?: number } = {}): Promise<{ result: unknown; streamUrl: string | null }> {
    if (!this.tracker.started) throw new errors.SY_ERR_USAGE('the provider is not started; requests to other tasks need its response hook');
    const timeoutMs = options.timeoutMs ?? this.config.requestTimeoutMs;
    const coordinatorUrl = this.config.coordinatorUrl;
    if (coordinatorUrl === undefined) {
      this.coordinator ??= new CoordinatorClient({ socketDir: this.config.socketDir, tracker: this.tracker, logger: this.log });
      const r = await this.coordinator.request(task, args, { timeoutMs });
      return { result: r.result, streamUrl: r.streamUrl };
    }
    const id = randomUUID();
    const answer = this.tracker.track(id, timeoutMs);
    let ackError: string;
    try {
      ackError = await sendTo(coordinatorUrl, encodeRequest({ id, task, responseHook: this.tracker.url, args }), { maxFrameBytes: this.config.maxFrameBytes });
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
   * Waits for one of `signals` (default SIGINT and SIGTERM; SIGKILL cannot be caught), then
   * stops. Resolves with the signal once stopped; a second signal exits at once.
   */
  stopOnSignal(...signals: NodeJS.Signals[]): Promise<NodeJS.Signals> {
    // SIGKILL and SIGSTOP cannot be caught (Node refuses listeners for them); the original's default list names Kill all the same.
    const list: NodeJS.Signals[] = (signals.length > 0 ? signals : (['SIGINT', 'SIGTERM'] as NodeJS.Signals[])).filter((s) => s !== 'SIGKILL' && s !== 'SIGSTOP');
    if (list.length === 0) return Promise.reject(new errors.SY_ERR_USAGE('stopOnSignal needs a signal that can be caught (SIGKILL and SIGSTOP cannot)'));
    return new Promise((resolve, reject) => {
      let got: NodeJS.Signals | undefined;
      const on = (signal: NodeJS.Signals) => {
        if (got) {
          this.log.warn({ signal }, 'second signal: exiting now');
          process.exit(signal === 'SIGINT' ? 130 : 143);
        }
        got = signal;
        this.log.info({ signal }, 'stopping: task sockets removed, finishing requests in flight');
        this.stop().then(() => {
          for (const s of list) process.off(s, on);
          resolve(signal);
        }, reject);
      };
      for (const s of list) process.on(s, on);
    });
  }
}

function requestIdOf(message: unknown): string {
  return message !== null && typeof message === 'object' && typeof (message as { id?: unknown }).id === 'string' ? (message as { id: string }).id : '';
}

/** A provider for `config` (a ProviderConfig, or its keys as an object). */
export function provider(config: ProviderConfig | ProviderConfigInput, options: ProviderOptions = {}): Provider {
  return new Provider(config, options);
}
