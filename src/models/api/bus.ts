// The bus: one object per process that calls and serves RPCs, fires and listens to
// events, keeps API schemas on the bus, runs hooks and scheduled tasks. Typed clients of
// the APIs it was given hang off it as `bus.<key>.<rpc>(params)` (see api-client.ts).

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { uuid1 } from '../../transports/bus/uuid1.js';
import type { z } from 'zod';
import { errors } from '../../errors.js';
import { createLogger, type Logger } from '../../observability/logger.js';
import { describeProblems, problemsOf, validate } from '../../schema/mod.js';
import type { Subscription } from '../../transports/transport.js';
import type { BusEvent, BusTransport, EventDelivery, RpcCall, RpcResult, StoredSchema, StreamActivity } from '../../transports/bus/bus-transport.js';
import { schemaOfApi, validatorsOf, type RemoteApiValidators } from './api-schema.js';
import { kwargsToBus, toBus } from './codec.js';
import { checkApiName, type AnyApi, type ParsedParamsOf, type ResultInputOf } from './define.js';
import type { EventContext, EventHandler, EventRef, ListenOptions, Listener } from './events.js';
import { RemoteError, reprOf } from './remote-error.js';
import { cronTask, everyTask, type Interval, type ScheduledTask, type ScheduleOptions } from './scheduler.js';
import { DEFAULT_API_SETTINGS, DEFAULT_LISTENER_SETTINGS, remoteTracesByDefault, type ApiSettings, type ListenerSettings } from './settings.js';
import { warnLimiter, type WarnLimiter } from '../../observability/warn-limiter.js';
import type { BusObserver } from './observer.js';
import { DeadlineTracker } from './deadlines.js';

export interface RpcContext {
  readonly api: string;
  readonly procedure: string;
  readonly id: string;
}

/** The procedures of an API as this process serves them; types come from the declaration. */
export type Implementation<A extends AnyApi> = {
  readonly [K in keyof A['rpcs']]: (
    params: ParsedParamsOf<A['rpcs'][K]>,
    context: RpcContext,
  ) => ResultInputOf<A['rpcs'][K]> | Promise<ResultInputOf<A['rpcs'][K]>>;
};

export interface TransportChoice {
  /** The transport of every API not named in `apis`, and of schemas. */
  readonly default: BusTransport;
  /** A transport of its own for some APIs, by API name. */
  readonly apis?: Readonly<Record<string, BusTransport>>;
}

export interface BusCoreOptions {
  readonly transport: BusTransport | TransportChoice;
  /** Names the listener groups (`{serviceName}-{listenerName}`). Default "switchyard". */
  readonly serviceName?: string;
  /** This process inside its listener groups. Default: host-pid-random. */
  readonly processName?: string;
  readonly logger?: Logger;
  /** Settings of every API, and per API name. */
  readonly settings?: Partial<ApiSettings>;
  readonly apiSettings?: Readonly<Record<string, Partial<ApiSettings>>>;
  readonly listenerDefaults?: Partial<ListenerSettings>;
  /** Listener defaults per API name (a listener of several APIs takes its first API's). */
  readonly apiListenerDefaults?: Readonly<Record<string, Partial<ListenerSettings>>>;
  /** Seconds a stored schema lives on the bus; it is re-stored every ttl*0.8 (Lightbus: 60). */
  readonly schemaTtlS?: number;
  /**
   * Whether error results of RPCs served here carry the error's stack trace (file paths of
   * this service) to the caller, as Lightbus's do. Default: off in production mode
   * (NODE_ENV=production), on otherwise; SWITCHYARD_REMOTE_TRACES=true|false overrides the
   * default. The trace is always in this process's own log.
   */
  readonly remoteTraces?: boolean;
}

interface RpcSubjects {
  readonly params: string;
  /** Results this process sends. */
  readonly response: string;
  /** Results this process receives. */
  readonly received: string;
}

interface Served {
  readonly api: AnyApi;
  readonly implementation: Record<string, (params: never, context: RpcContext) => unknown>;
}

interface ListenerEntry {
  readonly name: string;
  readonly refs: readonly EventRef[];
  readonly handler: EventHandler<unknown>;
  readonly options: ListenOptions;
  subscriptions: Subscription[];
}

/** The last events this process fired or handled, for `inspect`. */
export interface RecentEvent {
  readonly direction: 'fired' | 'handled' | 'set-aside';
  readonly api: string;
  readonly event: string;
  readonly id: string;
  readonly at: string;
  readonly listener?: string;
}

const RECENT_LIMIT = 50;
const RESERVED_LISTENER = /^[A-Za-z0-9_.-]+$/;

export class BusCore {
  readonly serviceName: string;
  readonly processName: string;
  readonly logger: Logger;
  private readonly transports: TransportChoice;
  private readonly settings: Partial<ApiSettings>;
  private readonly apiSettings: Readonly<Record<string, Partial<ApiSettings>>>;
  private readonly listenerDefaults: ListenerSettings;
  private readonly apiListenerDefaults: Readonly<Record<string, Partial<ListenerSettings>>>;
  private readonly schemaTtlS: number;
  private readonly served = new Map<string, Served>();
  private readonly known = new Map<string, AnyApi>();
  private readonly remote = new Map<string, RemoteApiValidators & { schema: StoredSchema }>();
  private readonly listeners = new Map<string, ListenerEntry>();
  private readonly servers: Subscription[] = [];
  private readonly startHooks: (() => unknown)[] = [];
  private readonly stopHooks: (() => unknown)[] = [];
  private readonly scheduled: ScheduledTask[] = [];
  private readonly observers = new Set<BusObserver>();
  private readonly warnedUnknown = new Set<string>();
  private readonly recent: (Omit<RecentEvent, 'at'> & { atMs: number })[] = [];
  private recentNext = 0;
  /** Settings are fixed at construction; merged once per API. */
  private readonly settingsCache = new Map<string, ApiSettings>();
  private readonly fireDeadlines = new DeadlineTracker();
  private schemaTimer: NodeJS.Timeout | undefined;
  /** Warnings a peer's input can cause (bad events, calls that fail validation): rate-limited per kind. */
  private readonly peerWarnings: WarnLimiter;
  private readonly remoteTraces: boolean;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(options: BusCoreOptions) {
    this.transports = 'default' in options.transport ? options.transport : { default: options.transport };
    this.serviceName = options.serviceName ?? 'switchyard';
    this.processName = options.processName ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
    this.logger = options.logger ?? createLogger({ level: 'info' });
    this.settings = options.settings ?? {};
    this.apiSettings = options.apiSettings ?? {};
    this.listenerDefaults = { ...DEFAULT_LISTENER_SETTINGS, ...options.listenerDefaults };
    this.apiListenerDefaults = options.apiListenerDefaults ?? {};
    this.schemaTtlS = options.schemaTtlS ?? 60;
    this.peerWarnings = warnLimiter(this.logger);
    this.remoteTraces = options.remoteTraces ?? remoteTracesByDefault();
  }

  get running(): boolean {
    return this.state === 'running';
  }

  // ---- registration

  /** Makes an API's declaration known (for validation and schemas) without serving it. */
  declare(api: AnyApi): void {
    const existing = this.known.get(api.name);
    if (existing && existing !== api) throw new errors.SY_ERR_API_DEFINITION(api.name, 'two different declarations of one API name were given to one bus');
    this.known.set(api.name, api);
  }

  /** Serves the API's procedures here; other processes call them through the bus. */
  serve<A extends AnyApi>(api: A, implementation: Implementation<A>): void {
    this.declare(api);
    if (this.served.has(api.name)) throw new errors.SY_ERR_API_DEFINITION(api.name, 'it is already served by this bus; call serve() once per API');
    for (const name of Object.keys(api.rpcs)) {
      if (typeof (implementation as Record<string, unknown>)[name] !== 'function') {
        throw new errors.SY_ERR_API_DEFINITION(api.name, `the implementation has no function for rpc "${name}"`);
      }
    }
    for (const name of Object.keys(implementation)) {
      if (!(name in api.rpcs)) throw new errors.SY_ERR_API_DEFINITION(api.name, `the implementation has "${name}", which the API does not declare as an rpc`);
    }
    this.served.set(api.name, { api, implementation: implementation as unknown as Served['implementation'] });
    if (this.state === 'running') void this.startServing([api.name]).catch((err) => this.logger.error({ err }, `serving ${api.name} failed`));
  }

  onStart(hook: () => unknown): void {
    this.startHooks.push(hook);
  }

  onStop(hook: () => unknown): void {
    this.stopHooks.push(hook);
  }

  every(interval: Interval, fn: () => unknown, options: ScheduleOptions = {}): void {
    this.addSchedule(everyTask(interval, fn, options, this.logger));
  }

  /** At the times of a cron expression, e.g. "0 * * * *" (hourly). */
  schedule(cron: string, fn: () => unknown, options: ScheduleOptions = {}): void {
    this.addSchedule(cronTask(cron, fn, options, this.logger));
  }

  private addSchedule(task: ScheduledTask): void {
    this.scheduled.push(task);
    if (this.state === 'running') task.start();
  }

  observe(observer: BusObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  // ---- lifecycle

  async start(): Promise<void> {
    if (this.state !== 'new' && this.state !== 'stopped') throw new errors.SY_ERR_BUS_STATE(`the bus is ${this.state}`, 'start it once, and again only after stop() resolved');
    this.state = 'starting';
    try {
      for (const t of this.allTransports()) await t.start();
      await this.storeSchemas();
      await this.loadRemoteSchemas();
      await this.startServing([...this.served.keys()]);
      for (const entry of this.listeners.values()) await this.startListener(entry);
      this.state = 'running';
      for (const hook of this.startHooks) await hook();
      for (const task of this.scheduled) task.start();
      const ms = Math.max(1000, this.schemaTtlS * 800);
      this.schemaTimer = setInterval(() => {
        void this.storeSchemas()
          .then(() => this.loadRemoteSchemas())
          .catch((err) => this.logger.warn({ err }, 'refreshing API schemas on the bus failed; retrying at the next interval'));
      }, ms);
      this.schemaTimer.unref();
      this.logger.info({ service: this.serviceName, process: this.processName, serving: [...this.served.keys()], listeners: [...this.listeners.keys()] }, 'bus started');
    } catch (error) {
      this.state = 'running';
      await this.stop().catch(() => undefined);
      throw error;
    }
  }

  /** Stops schedules and listeners (in-flight handlers finish), serving, hooks, then transports. */
  async stop(): Promise<void> {
    if (this.state === 'new' || this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    clearInterval(this.schemaTimer);
    await Promise.all(this.scheduled.map((t) => t.stop()));
    await Promise.all([...this.listeners.values()].flatMap((l) => l.subscriptions.map((s) => s.stop())));
    for (const l of this.listeners.values()) l.subscriptions = [];
    await Promise.all(this.servers.splice(0).map((s) => s.stop()));
    for (const hook of this.stopHooks) {
      try {
        await hook();
      } catch (err) {
        this.logger.error({ err }, 'an onStop hook failed');
      }
    }
    for (const t of this.allTransports()) await t.close();
    this.state = 'stopped';
    this.peerWarnings.flush();
    this.logger.info({ service: this.serviceName }, 'bus stopped');
  }

  // ---- RPC, calling side

  // Not an async function: a suspended async frame held every local of this function for
  // the whole round trip, the largest single piece of a call's garbage at high rates.
  call(apiName: string, procedure: string, params: Record<string, unknown>): Promise<unknown> {
    let call: RpcCall;
    let settings: ApiSettings;
    try {
      this.requireRunning('call', apiName, procedure, '()');
      settings = this.settingsOf(apiName);
      const decl = this.known.get(apiName)?.rpcs[procedure];
      const remote = this.remote.get(apiName)?.rpcs[procedure];
      let parsed: unknown = params;
      if (settings.validate.outgoing) {
        if (decl) parsed = validate(decl.params, params, this.rpcSubjects(apiName, procedure).params);
        else if (remote) parsed = validate(remote.params, toBus(params), this.rpcSubjects(apiName, procedure).params);
        else this.unknownMember(apiName, procedure, 'rpc', settings);
      }
      call = { id: uuid1(), api: apiName, procedure, kwargs: kwargsToBus(parsed as Record<string, unknown>) };
      for (const o of this.observers) o.rpcCalled?.(apiName, procedure, parsed, call.id);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.transportOf(apiName)
      .call(call, { timeoutMs: settings.rpcTimeoutMs })
      .then(
        (result) => this.resultOf(call, result, settings),
        (error: unknown) => {
          throw isTimeout(error) ? new errors.SY_ERR_REQUEST_TIMEOUT(`RPC ${apiName}.${procedure}()`, settings.rpcTimeoutMs, rpcTimeoutSetting(apiName)) : error;
        },
      );
  }

  private resultOf(call: RpcCall, result: RpcResult, settings: ApiSettings): unknown {
    const { api, procedure } = call;
    for (const o of this.observers) o.rpcResultReceived?.(api, procedure, call.id);
    if (result.error) throw new RemoteError(api, procedure, String(result.result), result.trace ?? '');
    if (!settings.validate.incoming) return result.result;
    const schema = this.known.get(api)?.rpcs[procedure]?.result ?? this.remote.get(api)?.rpcs[procedure]?.result;
    return schema ? validate(schema, result.result, this.rpcSubjects(api, procedure).received) : result.result;
  }

  /** What validation errors of an RPC name, made once per procedure (not per call). */
  private readonly subjects = new Map<string, Map<string, RpcSubjects>>();

  private rpcSubjects(api: string, procedure: string): RpcSubjects {
    let ofApi = this.subjects.get(api);
    if (!ofApi) this.subjects.set(api, (ofApi = new Map()));
    let got = ofApi.get(procedure);
    if (!got) {
      const response = `RPC ${api}.${procedure}() response`;
      // A refused result is one the serving side already produced: say so, the caller must
      // not take the error for a call that did not run.
      const received = `${response} (the call ran on the serving side; its result is refused here, by validate.incoming of API ${api})`;
      ofApi.set(procedure, (got = { params: `RPC ${api}.${procedure}() parameters`, response, received }));
    }
    return got;
  }

  // ---- RPC, serving side

  private async startServing(apis: string[]): Promise<void> {
    const byTransport = new Map<BusTransport, string[]>();
    for (const api of apis) {
      const t = this.transportOf(api);
      byTransport.set(t, [...(byTransport.get(t) ?? []), api]);
    }
    for (const [t, names] of byTransport) this.servers.push(await t.serve(names, (call) => this.execute(call)));
  }

  // Not an async function, for the reason given at call(); a handler that answers at once
  // (not a promise) gets its result returned at once, without waiting a turn.
  private execute(call: RpcCall): RpcResult | Promise<RpcResult> {
    const served = this.served.get(call.api);
    const decl = served?.api.rpcs[call.procedure];
    const fn = served?.implementation[call.procedure];
    if (!served || !decl || !fn) {
      const unknown = new errors.SY_ERR_API_UNKNOWN(`this process does not serve ${call.api}.${call.procedure}()`, 'check the API and procedure names');
      return { rpcId: call.id, error: true, result: reprOf(unknown), trace: '' };
    }
    const settings = this.settingsOf(call.api);
    let answer: unknown;
    try {
      const params = settings.validate.incoming ? validate(decl.params, call.kwargs, this.rpcSubjects(call.api, call.procedure).params) : call.kwargs;
      for (const o of this.observers) o.rpcExecuting?.(call.api, call.procedure, params, call.id);
      answer = fn(params as never, { api: call.api, procedure: call.procedure, id: call.id });
    } catch (error) {
      return this.failed(call, error);
    }
    if (!isThenable(answer)) return this.answered(call, answer, decl.result, settings);
    return Promise.resolve(answer).then(
      (result) => this.answered(call, result, decl.result, settings),
      (error: unknown) => this.failed(call, error),
    );
  }

  private answered(call: RpcCall, answer: unknown, schema: z.ZodType, settings: ApiSettings): RpcResult {
    try {
      const result = settings.validate.outgoing ? validate(schema, answer, this.rpcSubjects(call.api, call.procedure).response) : answer;
      for (const o of this.observers) o.rpcResponding?.(call.api, call.procedure, call.id, result);
      return { rpcId: call.id, error: false, result: toBus(result) };
    } catch (error) {
      return this.failed(call, error);
    }
  }

  private failed(call: RpcCall, error: unknown): RpcResult {
    // A caller can make every call fail (bad parameters): a few lines per procedure per window.
    this.peerWarnings.warn(`rpc ${call.api}.${call.procedure}`, { err: error, api: call.api, procedure: call.procedure, id: call.id }, `RPC ${call.api}.${call.procedure}() failed; the error goes back to the caller`);
    const trace = this.remoteTraces && error instanceof Error ? (error.stack ?? '') : '';
    return { rpcId: call.id, error: true, result: reprOf(error), trace };
  }

  // ---- events

  async fire(apiName: string, eventName: string, params: Record<string, unknown>): Promise<void> {
    this.requireRunning('fire', apiName, eventName);
    const settings = this.settingsOf(apiName);
    const api = this.known.get(apiName);
    const decl = api?.events[eventName];
    const remote = this.remote.get(apiName)?.events[eventName];
    let parsed: unknown = params;
    if (settings.validate.outgoing) {
      const subject = `Event ${apiName}.${eventName} parameters`;
      if (decl) parsed = validate(decl.params, params, subject);
      else if (remote) parsed = validate(remote.params, toBus(params), subject);
      else this.unknownMember(apiName, eventName, 'event', settings);
    }
    const event: BusEvent = { id: uuid1(), api: apiName, event: eventName, version: api?.version ?? 1, kwargs: kwargsToBus(parsed as Record<string, unknown>) };
    await this.fireDeadlines.within(this.transportOf(apiName).fire(event), settings.eventFireTimeoutMs, () => new errors.SY_ERR_REQUEST_TIMEOUT(`event ${apiName}.${eventName}`, settings.eventFireTimeoutMs, `event_fire_timeout (apis.${apiName}.event_fire_timeout in the bus config, seconds; settings.eventFireTimeoutMs in code)`));
    this.remember({ direction: 'fired', api: apiName, event: eventName, id: event.id });
    for (const o of this.observers) o.eventFired?.(apiName, eventName, parsed, event.id);
  }

  /** One handler on one or more events under a listener name. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the typed face (Bus.listen) narrows it
  async listen(refs: readonly EventRef[], handler: EventHandler<any>, options: ListenOptions): Promise<Listener> {
    const name = options?.listenerName;
    if (typeof name !== 'string' || !RESERVED_LISTENER.test(name)) {
      throw new errors.SY_ERR_LISTENER(String(name), 'listenerName is required and may hold only letters, digits, ".", "_" and "-"; e.g. listen(handler, { listenerName: "send_welcome_email" })');
    }
    if (this.listeners.has(name)) throw new errors.SY_ERR_LISTENER(name, 'this bus already has a listener of that name; each listener name is used once per process');
    if (refs.length === 0) throw new errors.SY_ERR_LISTENER(name, 'give at least one event to listen to');
    for (const ref of refs) {
      checkApiName(ref.api);
      if (ref.declaration) continue;
      const api = this.known.get(ref.api);
      if (api && !(ref.event in api.events)) throw new errors.SY_ERR_API_UNKNOWN(`API ${ref.api} declares no event "${ref.event}"`, `pick one of: ${Object.keys(api.events).join(', ') || '(none)'}`);
    }
    const entry: ListenerEntry = { name, refs, handler, options, subscriptions: [] };
    this.listeners.set(name, entry);
    if (this.state === 'running') await this.startListener(entry);
    return {
      name,
      stop: async () => {
        this.listeners.delete(name);
        await Promise.all(entry.subscriptions.splice(0).map((s) => s.stop()));
      },
    };
  }

  private async startListener(entry: ListenerEntry): Promise<void> {
    const defaults = { ...this.listenerDefaults, ...this.apiListenerDefaults[entry.refs[0]!.api] };
    const settings: ListenerSettings = {
      prefetch: entry.options.prefetch ?? defaults.prefetch,
      reclaimIdleMs: entry.options.reclaimIdleMs ?? defaults.reclaimIdleMs,
      maxAttempts: entry.options.maxAttempts ?? defaults.maxAttempts,
    };
    const byTransport = new Map<BusTransport, EventRef[]>();
    for (const ref of entry.refs) {
      const t = this.transportOf(ref.api);
      byTransport.set(t, [...(byTransport.get(t) ?? []), ref]);
    }
    for (const [t, refs] of byTransport) {
      const sub = await t.listen(
        {
          events: refs.map((r) => ({ api: r.api, event: r.event })),
          group: `${this.serviceName}-${entry.name}`,
          consumer: this.processName,
          prefetch: settings.prefetch,
          reclaimIdleMs: settings.reclaimIdleMs,
          onMalformed: (m) => this.peerWarnings.warn(`malformed ${entry.name}`, { listener: entry.name, source: m.source, nativeId: m.nativeId, reason: m.reason }, 'a malformed entry was set aside'),
        },
        (delivery) => this.handleEvent(entry, settings, delivery),
      );
      entry.subscriptions.push(sub);
    }
  }

  private async handleEvent(entry: ListenerEntry, settings: ListenerSettings, delivery: EventDelivery): Promise<void> {
    const { event } = delivery;
    const log = { listener: entry.name, api: event.api, event: event.event, id: event.id, attempt: delivery.attempt };
    const ref = entry.refs.find((r) => r.api === event.api && r.event === event.event);
    if (!ref) return delivery.ack();
    const apiSettings = this.settingsOf(event.api);
    const schema: z.ZodType | undefined = ref.declaration?.params ?? this.known.get(event.api)?.events[event.event]?.params ?? this.remote.get(event.api)?.events[event.event]?.params;
    let params: unknown = event.kwargs;
    if (apiSettings.validate.incoming && schema) {
      const checked = schema.safeParse(event.kwargs);
      if (!checked.success) {
        const reason = `Event ${event.api}.${event.event} parameters are not valid: ${describeProblems(problemsOf(checked.error, event.kwargs)).join('; ')}`;
        this.peerWarnings.warn(`invalid ${entry.name} ${event.api}.${event.event}`, { ...log, reason }, 'an event that fails its schema was set aside');
        this.remember({ direction: 'set-aside', api: event.api, event: event.event, id: event.id, listener: entry.name });
        return delivery.setAside(reason);
      }
      params = checked.data;
    }
    const context: EventContext = { api: event.api, event: event.event, id: event.id, attempt: delivery.attempt };
    for (const o of this.observers) o.eventReceived?.(event.api, event.event, params, entry.name, event.id);
    try {
      await entry.handler(params, context);
    } catch (error) {
      if (entry.options.onError === 'log') {
        this.logger.error({ ...log, err: error }, 'an event handler failed; the event is acknowledged (onError: "log")');
        return delivery.ack();
      }
      if (delivery.attempt >= settings.maxAttempts) {
        this.logger.error({ ...log, err: error }, `an event handler failed ${delivery.attempt} times; the event is set aside`);
        this.remember({ direction: 'set-aside', api: event.api, event: event.event, id: event.id, listener: entry.name });
        return delivery.setAside(`handler of listener "${entry.name}" failed ${delivery.attempt} times: ${(error as Error)?.message ?? String(error)}`);
      }
      this.logger.warn({ ...log, err: error }, 'an event handler failed; the event comes back after the reclaim idle time');
      return delivery.release();
    }
    await delivery.ack();
    this.remember({ direction: 'handled', api: event.api, event: event.event, id: event.id, listener: entry.name });
    for (const o of this.observers) o.eventHandled?.(event.api, event.event, params, entry.name, event.id);
  }

  // ---- schemas

  /** Schemas of every API this process serves or declares, as stored on the bus. */
  localSchemas(): Record<string, StoredSchema> {
    return Object.fromEntries([...this.known.values()].map((api) => [api.name, schemaOfApi(api)]));
  }

  /** Every API schema known here: local ones and those loaded from the bus. */
  schemas(): Record<string, StoredSchema> {
    const out: Record<string, StoredSchema> = {};
    for (const [name, r] of this.remote) out[name] = r.schema;
    return { ...out, ...this.localSchemas() };
  }

  /** Uses schemas from a file or another source, as if loaded from the bus. */
  loadSchemas(schemas: Record<string, StoredSchema>): void {
    for (const [name, schema] of Object.entries(schemas)) this.remote.set(name, { ...validatorsOf(schema), schema });
  }

  private async storeSchemas(): Promise<void> {
    const t = this.transports.default;
    for (const api of this.served.values()) await t.storeSchema(api.api.name, schemaOfApi(api.api), this.schemaTtlS);
  }

  private async loadRemoteSchemas(): Promise<void> {
    const loaded = await this.transports.default.loadSchemas();
    for (const [name, schema] of Object.entries(loaded)) {
      if (this.known.has(name)) continue;
      try {
        this.remote.set(name, { ...validatorsOf(schema), schema });
      } catch (err) {
        this.peerWarnings.warn(`schema ${name}`, { err, api: name }, 'a schema on the bus could not be read; that API is used without validation');
      }
    }
  }

  /** Puts a schema on the bus as if an API's server had (e.g. from a dump file). */
  async storeSchemaOnBus(api: string, schema: StoredSchema, ttlS: number): Promise<void> {
    checkApiName(api);
    await this.transports.default.storeSchema(api, schema, ttlS);
  }

  /** Streams, listener groups and recent events of every known API, where transports tell. */
  async transportActivity(recent = 5): Promise<StreamActivity[]> {
    const out: StreamActivity[] = [];
    const schemas = this.schemas();
    for (const t of this.allTransports()) {
      if (!t.activity) continue;
      const events = Object.entries(schemas)
        .filter(([api]) => this.transportOf(api) === t)
        .flatMap(([api, s]) => Object.keys(s.events).map((event) => ({ api, event })));
      out.push(...(await t.activity(events, recent)));
    }
    return out;
  }

  // ---- inspection

  describe() {
    return {
      service: this.serviceName,
      process: this.processName,
      state: this.state,
      served: [...this.served.keys()],
      apis: Object.entries(this.schemas()).map(([name, s]) => ({
        name,
        local: this.known.has(name),
        served: this.served.has(name),
        rpcs: Object.keys(s.rpcs),
        events: Object.keys(s.events),
      })),
      listeners: [...this.listeners.values()].map((l) => ({ name: l.name, group: `${this.serviceName}-${l.name}`, events: l.refs.map((r) => `${r.api}.${r.event}`) })),
      recentEvents: [...this.recent.slice(this.recentNext), ...this.recent.slice(0, this.recentNext)].map(({ atMs, ...e }) => ({ ...e, at: new Date(atMs).toISOString() })),
    };
  }

  // ---- helpers

  private remember(event: Omit<RecentEvent, 'at'>): void {
    // A ring of the last RECENT_LIMIT, stamped with a number: formatting waits for describe().
    this.recent[this.recentNext] = { ...event, atMs: Date.now() };
    this.recentNext = (this.recentNext + 1) % RECENT_LIMIT;
  }

  private unknownMember(api: string, member: string, kind: string, settings: ApiSettings): void {
    const what = `${kind} ${api}.${member} has no schema here or on the bus`;
    if (settings.strictValidation) throw new errors.SY_ERR_API_UNKNOWN(what, 'start the service that serves the API, give its declaration to this bus, or load its schema (switchyard schema load)');
    if (!this.warnedUnknown.has(`${api}.${member}`)) {
      this.warnedUnknown.add(`${api}.${member}`);
      this.logger.warn({ api, member }, `${what}; it is sent without validation`);
    }
  }

  /** `verb api.member` names what was refused; the text is only made then (not per call). */
  private requireRunning(verb: string, api: string, member: string, suffix = ''): void {
    // While stopping, transports are open until the onStop hooks ran (they may fire a last event).
    if (this.state !== 'running' && this.state !== 'starting' && this.state !== 'stopping') throw new errors.SY_ERR_BUS_STATE(`cannot ${verb} ${api}.${member}${suffix}: the bus is ${this.state}`, 'await bus.start() first (or use connectBus)');
  }

  settingsOf(api: string): ApiSettings {
    let settings = this.settingsCache.get(api);
    if (!settings) {
      const own = this.apiSettings[api] ?? {};
      settings = { ...DEFAULT_API_SETTINGS, ...this.settings, ...own, validate: { ...DEFAULT_API_SETTINGS.validate, ...this.settings.validate, ...own.validate } };
      this.settingsCache.set(api, settings);
    }
    return settings;
  }

  private transportOf(api: string): BusTransport {
    return this.transports.apis?.[api] ?? this.transports.default;
  }

  private allTransports(): BusTransport[] {
    return [...new Set([this.transports.default, ...Object.values(this.transports.apis ?? {})])];
  }
}

/** The setting a caller raises when an RPC takes longer than it waits, as the user knows it. */
function rpcTimeoutSetting(api: string): string {
  return `rpc_timeout (apis.${api}.rpc_timeout in the bus config, seconds; settings.rpcTimeoutMs in code)`;
}

function isTimeout(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'SY_ERR_REQUEST_TIMEOUT';
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}
