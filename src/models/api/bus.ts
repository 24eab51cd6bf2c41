// The bus: one object per process that calls and serves RPCs, fires and listens to events,
// keeps API schemas on the bus, runs hooks and scheduled tasks. It is also the API model's
// Component (runtime/runtime.ts): the runtime starts and stops it, and it reports through
// the observer stream it was given. Its parts, each a file of its own:
//
//   rpc-caller.ts       the calling side of RPC              → "called"
//   rpc-executor.ts     the serving side of RPC              → "received", "handled", "failed", "rejected"
//   event-firer.ts      firing events                        → "sent"
//   event-listeners.ts  listener groups and their deliveries → "received", "handled", "failed", "dead-lettered", "rejected"
//   schema-book.ts      declarations, schemas on the bus
//
// Typed clients of the APIs it was given hang off it as `bus.<key>.<rpc>(params)` (see api-client.ts).

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { errors } from '../../errors.js';
import { createLogger, type Logger } from '../../observability/logger.js';
import { silentEmitter, type Edge, type Emitter, type EventSource, type Observer } from '../../observability/observer.js';
import { traceOnce } from '../../observability/trace-once.js';
import { warnLimiter, type WarnLimiter } from '../../observability/warn-limiter.js';
import type { Component } from '../../runtime/runtime.js';
import type { BusTransport, StoredSchema, StreamActivity } from '../../transports/bus/bus-transport.js';
import type { BusContext } from './bus-context.js';
import type { AnyApi, ParsedParamsOf, ResultInputOf } from './define.js';
import { EventFirer } from './event-firer.js';
import { EventListeners } from './event-listeners.js';
import type { EventHandler, EventRef, ListenOptions, Listener } from './events.js';
import { RecentEvents } from './recent-events.js';
import { RpcCaller } from './rpc-caller.js';
import { RpcExecutor, type RpcContext } from './rpc-executor.js';
import { SchemaBook } from './schema-book.js';
import { cronTask, everyTask, type Interval, type ScheduledTask, type ScheduleOptions } from './scheduler.js';
import { DEFAULT_API_SETTINGS, remoteTracesByDefault, type ApiSettings, type ListenerSettings } from './settings.js';
import { Taps, TAPS } from './taps.js';

export type { RpcContext } from './rpc-executor.js';
export type { RecentEvent } from './recent-events.js';

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
  /**
   * Whether stop() closes the transports. Default true (a bus made in code owns what it was
   * given); false when the runtime's transport registry owns them and closes them last.
   */
  readonly closeTransports?: boolean;
  /** Names the listener groups (`{serviceName}-{listenerName}`). Default "switchyard". */
  readonly serviceName?: string;
  /** This process inside its listener groups. Default: host-pid-random. */
  readonly processName?: string;
  readonly logger?: Logger;
  /**
   * The observer stream to report to (received, handled, failed, dead-lettered, sent,
   * called, rejected; observability/observer.ts): metrics, logs, the dashboard and tests
   * derive from it. Default: none (nothing is built when nobody watches).
   */
  readonly observer?: Observer;
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

export class BusCore implements Component {
  readonly serviceName: string;
  readonly processName: string;
  readonly logger: Logger;
  /** Who reports: model "api", the service name, the default transport's name. */
  readonly source: EventSource;
  /** Payload taps (taps.ts): for the metrics plugin and the testing utilities only. */
  readonly [TAPS] = new Taps();
  private readonly transports: TransportChoice;
  private readonly closeTransports: boolean;
  private readonly settings: Partial<ApiSettings>;
  private readonly apiSettings: Readonly<Record<string, Partial<ApiSettings>>>;
  private readonly schemaTtlS: number;
  private readonly schemaBook: SchemaBook;
  private readonly caller: RpcCaller;
  private readonly executor: RpcExecutor;
  private readonly firer: EventFirer;
  private readonly listeners: EventListeners;
  private readonly recent = new RecentEvents();
  private readonly startHooks: (() => unknown)[] = [];
  private readonly stopHooks: (() => unknown)[] = [];
  private readonly scheduled: ScheduledTask[] = [];
  /** Settings are fixed at construction; merged once per API. */
  private readonly settingsCache = new Map<string, ApiSettings>();
  private schemaTimer: NodeJS.Timeout | undefined;
  /** The schema refresh failing at every interval (the transport is down): its stack trace once. */
  private readonly schemaTrace = traceOnce();
  /** Warnings a peer's input can cause (bad events, calls that fail validation): rate-limited per kind. */
  private readonly peerWarnings: WarnLimiter;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(options: BusCoreOptions) {
    this.transports = 'default' in options.transport ? options.transport : { default: options.transport };
    this.closeTransports = options.closeTransports ?? true;
    this.serviceName = options.serviceName ?? 'switchyard';
    this.processName = options.processName ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
    this.logger = options.logger ?? createLogger({ level: 'info' });
    this.source = { model: 'api', service: this.serviceName, transport: this.transports.default.name };
    this.settings = options.settings ?? {};
    this.apiSettings = options.apiSettings ?? {};
    this.schemaTtlS = options.schemaTtlS ?? 60;
    this.peerWarnings = warnLimiter(this.logger);
    this.schemaBook = new SchemaBook(this.logger, this.peerWarnings);
    const emitter: Emitter = options.observer ? options.observer.for(this.source) : silentEmitter;
    const context: BusContext = {
      logger: this.logger,
      emitter,
      taps: this[TAPS],
      schemas: this.schemaBook,
      recent: this.recent,
      peerWarnings: this.peerWarnings,
      settingsOf: (api) => this.settingsOf(api),
      transportOf: (api) => this.transportOf(api),
      requireRunning: (verb, api, member, suffix) => this.requireRunning(verb, api, member, suffix),
    };
    this.caller = new RpcCaller(context);
    this.executor = new RpcExecutor(context, options.remoteTraces ?? remoteTracesByDefault());
    this.firer = new EventFirer(context);
    this.listeners = new EventListeners(context, (listener) => `${this.serviceName}-${listener}`, this.processName, {
      all: options.listenerDefaults ?? {},
      perApi: options.apiListenerDefaults ?? {},
    });
  }

  get running(): boolean {
    return this.state === 'running';
  }

  // ---- registration

  /** Makes an API's declaration known (for validation and schemas) without serving it. */
  declare(api: AnyApi): void {
    this.schemaBook.declare(api);
  }

  /** Serves the API's procedures here; other processes call them through the bus. */
  serve<A extends AnyApi>(api: A, implementation: Implementation<A>): void {
    this.declare(api);
    this.executor.add(api, implementation as unknown as Record<string, unknown>);
    if (this.state === 'running') void this.executor.start([api.name]).catch((err) => this.logger.error({ err }, `serving ${api.name} failed`));
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

  // ---- lifecycle (the Component's start and stop)

  async start(): Promise<void> {
    if (this.state !== 'new' && this.state !== 'stopped') throw new errors.SY_ERR_BUS_STATE(`the bus is ${this.state}`, 'start it once, and again only after stop() resolved');
    this.state = 'starting';
    try {
      for (const t of this.allTransports()) await t.start();
      await this.refreshSchemas();
      await this.executor.start();
      await this.listeners.start();
      this.state = 'running';
      for (const hook of this.startHooks) await hook();
      for (const task of this.scheduled) task.start();
      this.schemaTimer = setInterval(() => {
        void this.refreshSchemas().catch((err) => this.logger.warn({ err: this.schemaTrace(err) }, 'refreshing API schemas on the bus failed; retrying at the next interval'));
      }, Math.max(1000, this.schemaTtlS * 800));
      this.schemaTimer.unref();
      this.logger.info({ service: this.serviceName, process: this.processName, serving: this.executor.apis().map((a) => a.name), listeners: this.listeners.describe().map((l) => l.name) }, 'bus started');
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
    await this.listeners.stop();
    await this.executor.stop();
    for (const hook of this.stopHooks) {
      try {
        await hook();
      } catch (err) {
        this.logger.error({ err }, 'an onStop hook failed');
      }
    }
    if (this.closeTransports) for (const t of this.allTransports()) await t.close();
    this.state = 'stopped';
    this.peerWarnings.flush();
    this.logger.info({ service: this.serviceName }, 'bus stopped');
  }

  /** What this bus serves (each RPC, each listener's events) and may fire (the events of the APIs it serves). */
  edges(): { readonly inputs: readonly Edge[]; readonly outputs: readonly Edge[] } {
    const inputs: Edge[] = this.executor.inputs().map((name) => ({ kind: 'rpc', name }));
    for (const l of this.listeners.describe()) for (const name of l.events) inputs.push({ kind: 'event', name, label: l.name });
    const outputs: Edge[] = this.executor.apis().flatMap((api) => Object.keys(api.events).map((event) => ({ kind: 'event' as const, name: `${api.name}.${event}` })));
    return { inputs, outputs };
  }

  // ---- RPC and events

  call(apiName: string, procedure: string, params: Record<string, unknown>): Promise<unknown> {
    return this.caller.call(apiName, procedure, params);
  }

  fire(apiName: string, eventName: string, params: Record<string, unknown>): Promise<void> {
    return this.firer.fire(apiName, eventName, params);
  }

  /** One handler on one or more events under a listener name. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the typed face (Bus.listen) narrows it
  listen(refs: readonly EventRef[], handler: EventHandler<any>, options: ListenOptions): Promise<Listener> {
    return this.listeners.add(refs, handler as EventHandler<unknown>, options, this.state === 'running');
  }

  // ---- schemas

  /** Schemas of every API this process serves or declares, as stored on the bus. */
  localSchemas(): Record<string, StoredSchema> {
    return this.schemaBook.localSchemas();
  }

  /** Every API schema known here: local ones and those loaded from the bus. */
  schemas(): Record<string, StoredSchema> {
    return this.schemaBook.all();
  }

  /** Uses schemas from a file or another source, as if loaded from the bus. */
  loadSchemas(schemas: Record<string, StoredSchema>): void {
    this.schemaBook.load(schemas);
  }

  /** Puts a schema on the bus as if an API's server had (e.g. from a dump file). */
  async storeSchemaOnBus(api: string, schema: StoredSchema, ttlS: number): Promise<void> {
    await this.schemaBook.storeOne(this.transports.default, api, schema, ttlS);
  }

  private async refreshSchemas(): Promise<void> {
    await this.schemaBook.store(this.transports.default, this.executor.apis(), this.schemaTtlS);
    await this.schemaBook.loadRemote(this.transports.default);
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
    const schemas = this.schemas();
    return {
      service: this.serviceName,
      process: this.processName,
      state: this.state,
      served: this.executor.apis().map((a) => a.name),
      apis: Object.entries(schemas).map(([name, s]) => ({
        name,
        local: this.schemaBook.isLocal(name),
        served: this.executor.has(name),
        rpcs: Object.keys(s.rpcs),
        events: Object.keys(s.events),
      })),
      listeners: this.listeners.describe(),
      recentEvents: this.recent.list(),
    };
  }

  // ---- helpers

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
