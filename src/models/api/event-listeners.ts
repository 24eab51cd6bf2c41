// Listeners: one handler on one or more events under a listener name. Each listener name
// is a listener group (`{serviceName}-{listenerName}`) that gets every event once; the
// processes sharing the name share the events. What happens to one delivery:
//
//   arrives ─ not for this listener ──────────────────────────────── ack (skipped)
//      │ received
//      ├─ parameters fail the schema ─────────────────────────────── set aside   (dead-lettered: invalid)
//      ├─ handler returns ────────────────────────────────────────── ack         (handled)
//      └─ handler throws ─┬─ onError "log" ───────────────────────── ack         (failed)
//                         ├─ attempts left ───────────────────────── release    (failed, retryInMs = reclaim idle)
//                         └─ attempt maxAttempts ─────────────────── set aside   (dead-lettered: max_attempts)
//
// An entry the transport cannot read is set aside by the transport and "rejected" here. In
// the observer stream a listener's input is "api.event" (the name its events are sent on).

import { errors } from '../../errors.js';
import { errorInfo } from '../../observability/observer.js';
import { traceOnce } from '../../observability/trace-once.js';
import { describeProblems, problemsOf } from '../../schema/mod.js';
import type { Subscription } from '../../transports/transport.js';
import type { BusTransport, EventDelivery, MalformedEntry } from '../../transports/bus/bus-transport.js';
import type { BusContext } from './bus-context.js';
import { checkApiName } from './define.js';
import type { EventContext, EventHandler, EventRef, ListenOptions, Listener } from './events.js';
import { DEFAULT_LISTENER_SETTINGS, type ListenerSettings } from './settings.js';

const LISTENER_NAME = /^[A-Za-z0-9_.-]+$/;

/** One listener: its events, handler and options, and the subscriptions while it runs. */
interface ListenerEntry {
  readonly name: string;
  readonly refs: readonly EventRef[];
  readonly handler: EventHandler<unknown>;
  readonly options: ListenOptions;
  subscriptions: Subscription[];
}

export interface ListenerDefaults {
  readonly all: Partial<ListenerSettings>;
  /** Per API name (a listener of several APIs takes its first API's). */
  readonly perApi: Readonly<Record<string, Partial<ListenerSettings>>>;
}

export class EventListeners {
  private readonly entries = new Map<string, ListenerEntry>();

  constructor(
    private readonly bus: BusContext,
    private readonly group: (listener: string) => string,
    private readonly consumer: string,
    private readonly defaults: ListenerDefaults,
  ) {}

  /** Registers a listener; `running` starts it at once. */
  async add(refs: readonly EventRef[], handler: EventHandler<unknown>, options: ListenOptions, running: boolean): Promise<Listener> {
    const name = options?.listenerName;
    if (typeof name !== 'string' || !LISTENER_NAME.test(name)) {
      throw new errors.SY_ERR_LISTENER(String(name), 'listenerName is required and may hold only letters, digits, ".", "_" and "-"; e.g. listen(handler, { listenerName: "send_welcome_email" })');
    }
    if (this.entries.has(name)) throw new errors.SY_ERR_LISTENER(name, 'this bus already has a listener of that name; each listener name is used once per process');
    if (refs.length === 0) throw new errors.SY_ERR_LISTENER(name, 'give at least one event to listen to');
    for (const ref of refs) {
      checkApiName(ref.api);
      if (ref.declaration) continue;
      const api = this.bus.schemas.declaration(ref.api);
      if (api && !(ref.event in api.events)) throw new errors.SY_ERR_API_UNKNOWN(`API ${ref.api} declares no event "${ref.event}"`, `pick one of: ${Object.keys(api.events).join(', ') || '(none)'}`);
    }
    const entry: ListenerEntry = { name, refs, handler, options, subscriptions: [] };
    this.entries.set(name, entry);
    if (running) await this.startOne(entry);
    return {
      name,
      stop: async () => {
        this.entries.delete(name);
        await Promise.all(entry.subscriptions.splice(0).map((s) => s.stop()));
      },
    };
  }

  async start(): Promise<void> {
    for (const entry of this.entries.values()) await this.startOne(entry);
  }

  /** Stops every listener; handlers in flight finish first, unsettled events go back. */
  async stop(): Promise<void> {
    await Promise.all([...this.entries.values()].flatMap((l) => l.subscriptions.map((s) => s.stop())));
    for (const l of this.entries.values()) l.subscriptions = [];
  }

  /** Name, group and "api.event" of every listener. */
  describe(): { name: string; group: string; events: string[] }[] {
    return [...this.entries.values()].map((l) => ({ name: l.name, group: this.group(l.name), events: l.refs.map((r) => `${r.api}.${r.event}`) }));
  }

  private settingsOf(entry: ListenerEntry): ListenerSettings {
    const defaults = { ...DEFAULT_LISTENER_SETTINGS, ...this.defaults.all, ...this.defaults.perApi[entry.refs[0]!.api] };
    return {
      prefetch: entry.options.prefetch ?? defaults.prefetch,
      reclaimIdleMs: entry.options.reclaimIdleMs ?? defaults.reclaimIdleMs,
      maxAttempts: entry.options.maxAttempts ?? defaults.maxAttempts,
    };
  }

  private async startOne(entry: ListenerEntry): Promise<void> {
    const settings = this.settingsOf(entry);
    const byTransport = new Map<BusTransport, EventRef[]>();
    for (const ref of entry.refs) {
      const t = this.bus.transportOf(ref.api);
      byTransport.set(t, [...(byTransport.get(t) ?? []), ref]);
    }
    const delivery = new DeliveryHandler(this.bus, entry, settings);
    for (const [t, refs] of byTransport) {
      const sub = await t.listen(
        {
          events: refs.map((r) => ({ api: r.api, event: r.event })),
          group: this.group(entry.name),
          consumer: this.consumer,
          prefetch: settings.prefetch,
          reclaimIdleMs: settings.reclaimIdleMs,
          onMalformed: (m) => delivery.malformed(m),
        },
        (d) => delivery.handle(d),
      );
      entry.subscriptions.push(sub);
    }
  }
}

/** What one listener does with each delivery (see the picture at the top). */
class DeliveryHandler {
  /** Input names by "api.event", made once. */
  private readonly inputs = new Map<string, string>();
  /** A handler failing on every attempt: one line each, its stack trace once. */
  private readonly trace = traceOnce();

  constructor(
    private readonly bus: BusContext,
    private readonly entry: ListenerEntry,
    private readonly settings: ListenerSettings,
  ) {
    for (const r of entry.refs) this.inputs.set(`${r.api}\u0000${r.event}`, `${r.api}.${r.event}`);
  }

  malformed(m: MalformedEntry): void {
    // The entry's event is unknown (it could not be read): it counts on the listener's first input.
    const first = this.entry.refs[0]!;
    if (this.bus.emitter.active) this.bus.emitter.emit({ type: 'rejected', input: `${first.api}.${first.event}`, reason: 'unreadable event' });
    this.bus.peerWarnings.warn(`malformed ${this.entry.name}`, { listener: this.entry.name, source: m.source, nativeId: m.nativeId, reason: m.reason }, 'a malformed entry was set aside');
  }

  async handle(delivery: EventDelivery): Promise<void> {
    const { event } = delivery;
    const ref = this.entry.refs.find((r) => r.api === event.api && r.event === event.event);
    if (!ref) return delivery.ack();
    const input = this.inputs.get(`${event.api}\u0000${event.event}`)!;
    const watched = this.bus.emitter.active;
    if (watched) this.bus.emitter.emit({ type: 'received', input, id: event.id, attempt: delivery.attempt });
    const started = watched ? performance.now() : 0;
    const params = this.checked(ref, delivery);
    if (params instanceof Refusal) return this.setAside(delivery, input, `Event ${event.api}.${event.event} parameters are not valid: ${params.problems}`, 'invalid', watched);
    const context: EventContext = { api: event.api, event: event.event, id: event.id, attempt: delivery.attempt };
    const { taps } = this.bus;
    if (taps.list.length > 0) for (const t of taps.list) t.eventReceived?.(event.api, event.event, params, this.entry.name, event.id);
    try {
      await this.entry.handler(params, context);
    } catch (error) {
      return this.handlerFailed(delivery, input, error, watched ? started : 0);
    }
    await delivery.ack();
    this.bus.recent.remember('handled', event.api, event.event, event.id, this.entry.name);
    if (watched) this.bus.emitter.emit({ type: 'handled', input, id: event.id, durationMs: performance.now() - started });
    if (taps.list.length > 0) for (const t of taps.list) t.eventHandled?.(event.api, event.event, params, this.entry.name, event.id);
  }

  /** The parameters as the handler gets them, or a Refusal saying how they fail the schema. */
  private checked(ref: EventRef, delivery: EventDelivery): unknown {
    const { event } = delivery;
    if (!this.bus.settingsOf(event.api).validate.incoming) return event.kwargs;
    const schema = ref.declaration?.params ?? this.bus.schemas.eventParams(event.api, event.event)?.schema;
    if (!schema) return event.kwargs;
    const checked = schema.safeParse(event.kwargs);
    if (checked.success) return checked.data;
    return new Refusal(describeProblems(problemsOf(checked.error, event.kwargs)).join('; '));
  }

  private async setAside(delivery: EventDelivery, input: string, reason: string, kind: 'invalid' | 'max_attempts', watched: boolean): Promise<void> {
    const { event } = delivery;
    const log = { listener: this.entry.name, api: event.api, event: event.event, id: event.id, attempt: delivery.attempt };
    if (kind === 'invalid') this.bus.peerWarnings.warn(`invalid ${this.entry.name} ${input}`, { ...log, reason }, 'an event that fails its schema was set aside');
    this.bus.recent.remember('set-aside', event.api, event.event, event.id, this.entry.name);
    await delivery.setAside(reason);
    if (watched) this.bus.emitter.emit({ type: 'dead-lettered', input, id: event.id, reason, reasonKind: kind });
  }

  private async handlerFailed(delivery: EventDelivery, input: string, error: unknown, started: number): Promise<void> {
    const { event } = delivery;
    const log = { listener: this.entry.name, api: event.api, event: event.event, id: event.id, attempt: delivery.attempt };
    const failed = (retryInMs?: number) => {
      if (started !== 0) this.bus.emitter.emit({ type: 'failed', input, id: event.id, durationMs: performance.now() - started, error: errorInfo(error), ...(retryInMs !== undefined ? { retryInMs } : {}) });
    };
    if (this.entry.options.onError === 'log') {
      this.bus.logger.error({ ...log, err: this.trace(error) }, 'an event handler failed; the event is acknowledged (onError: "log")');
      await delivery.ack();
      return failed();
    }
    if (delivery.attempt >= this.settings.maxAttempts) {
      this.bus.logger.error({ ...log, err: this.trace(error) }, `an event handler failed ${delivery.attempt} times; the event is set aside`);
      return this.setAside(delivery, input, `handler of listener "${this.entry.name}" failed ${delivery.attempt} times: ${(error as Error)?.message ?? String(error)}`, 'max_attempts', started !== 0);
    }
    this.bus.logger.warn({ ...log, err: this.trace(error) }, 'an event handler failed; the event comes back after the reclaim idle time');
    await delivery.release();
    failed(this.settings.reclaimIdleMs);
  }
}

/** Parameters that fail the event's schema, and how. */
class Refusal {
  constructor(readonly problems: string) {}
}
