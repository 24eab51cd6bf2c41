// The one observer stream (the runtime owns one per process). Every model reports what happens to its work here, in one shape,
// and everything that watches a running system is derived from it: metrics (one registry,
// labels model/service/transport), log lines, health, the dashboard, traces. Watchers never
// change what a model does.
//
// Emitting is cheap when nobody watches: emitters check `observer.active` before building
// an event, so a process without metrics, dashboard or tracing pays one property read per
// step.
//
// Two ways to watch: listen (each event, as it comes) and countPorts (each component's
// ports counted as their events pass the emitter, read when wanted; port-counts.ts). A
// watcher that needs figures, not events, counts: that is far cheaper than counting in a
// listener (bench/dashboard.ts).

import type { ErrorInfo, EventSource, ObserverEvent, ObserverEventBody, ObserverListener } from './observer-events.js';
import { CountTable, type ComponentCounts } from './port-counts.js';

export * from './observer-events.js';

/** What a component holds: its own source filled in, so it emits bodies only. */
export interface Emitter {
  /** False when nobody listens: skip building events. */
  readonly active: boolean;
  /**
   * `body` must be a fresh object: it becomes the event listeners see (its source and time
   * are added to it). `at` (ms since the epoch) when the caller knows the time already: a
   * clock read costs ~0.15 µs on these machines, a tenth of what a message costs a worker.
   */
  emit(body: ObserverEventBody, at?: number): void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface ObserverOptions {
  /** Ports counted at most (countPorts), over all components. Default 4000. */
  readonly maxPorts?: number;
}

/**
 * A listener that samples says here when it needs nothing: while `resting` is true, it is
 * not called for a unit of work's event (any but "state") dated before `restUntil`. Read by
 * the observer on every event, so keep both plain fields of one object. A listener that
 * counts on ports (countPorts) and looks at events only now and then (the dashboard's
 * journeys) is then not called at all for almost every event.
 */
export interface ListenerRest {
  readonly resting: boolean;
  readonly restUntil: number;
}

/** What countPorts hands a watcher. */
export interface PortCounting {
  /** Every component's counts; read it as often as wanted (it only grows, except in-flight figures). */
  readonly table: CountTable;
  /** Stops this watcher's counting (counting goes on while another watcher counts). */
  stop(): void;
}

export class Observer {
  /** Replaced, never changed in place: an emit walks the list it started with (a listener may stop listening from inside). An array, not a Set: no iterator made per event. */
  #listeners: readonly ObserverListener[] = [];
  /** Each listener's rest, by index in #listeners (undefined: called for every event). Replaced with it. */
  #rests: readonly (ListenerRest | undefined)[] = [];
  /** Watchers counting ports; while one does, every emitted event is also counted (after its delivery). */
  #counters = 0;
  /** Kept across counting watchers (a later one reads what earlier counting left). */
  readonly #table: CountTable;
  /** Someone listens or counts (one field read per step for an emitter). */
  #active = false;

  constructor(options: ObserverOptions = {}) {
    this.#table = new CountTable(options.maxPorts);
  }

  /** True while at least one listener is attached or one watcher counts. */
  get active(): boolean {
    return this.#active;
  }

  /**
   * Adds a listener; returns a function that removes it. A throwing listener is removed and
   * never breaks the emitter. `rest`: when it needs no events (ListenerRest).
   */
  listen(listener: ObserverListener, rest?: ListenerRest): () => void {
    if (!this.#listeners.includes(listener)) {
      this.#listeners = [...this.#listeners, listener];
      this.#rests = [...this.#rests, rest];
    }
    this.#active = true;
    return () => this.#remove(listener);
  }

  /** Counts every component's ports from now on (port-counts.ts), until stop(). */
  countPorts(): PortCounting {
    // Units that finished while nobody counted left their in-flight counts behind.
    if (this.#counters === 0) this.#table.clearInFlight();
    this.#counters++;
    this.#active = true;
    let stopped = false;
    return {
      table: this.#table,
      stop: () => {
        if (stopped) return;
        stopped = true;
        this.#counters--;
        this.#active = this.#listeners.length > 0 || this.#counters > 0;
      },
    };
  }

  /**
   * Delivers an event, then counts it while anyone counts: a watcher that rolls counts in on
   * an event's arrival (the dashboard) then reads the counts of the events before it, which
   * are all older. Components emit through for(source), which finds their counts once.
   */
  emit(event: ObserverEvent): void {
    this.#deliver(event);
    if (this.#counters !== 0) count(this.#table.of(event), event);
  }

  #deliver(event: ObserverEvent): void {
    const listeners = this.#listeners;
    const rests = this.#rests;
    for (let i = 0; i < listeners.length; i++) {
      const rest = rests[i];
      if (rest !== undefined && rest.resting && event.at < rest.restUntil && event.type !== 'state') continue;
      try {
        listeners[i]!(event);
      } catch {
        this.#remove(listeners[i]!);
      }
    }
  }

  #remove(listener: ObserverListener): void {
    const i = this.#listeners.indexOf(listener);
    if (i === -1) return;
    this.#listeners = this.#listeners.filter((_, k) => k !== i);
    this.#rests = this.#rests.filter((_, k) => k !== i);
    this.#active = this.#listeners.length > 0 || this.#counters > 0;
  }

  /** An emitter for one component: the source is filled in on every event. */
  for(source: EventSource): Emitter {
    const observer = this;
    /** This component's counts, found on its first counted event. */
    let counts: ComponentCounts | undefined;
    return {
      get active() {
        return observer.#active;
      },
      emit(body, at) {
        if (!observer.#active) return;
        // The body becomes the event: the source and the time are added to it, with no
        // second object and no copy. Not `{ ...source, at, ...body }` (a spread of bodies of
        // many shapes cost ~20 µs an event) nor Object.assign onto a new literal (~0.3 µs a
        // pair more than this; bench/dashboard.ts). Emitters pass a fresh literal each time.
        const event = body as Mutable<ObserverEvent>;
        event.model = source.model;
        event.service = source.service;
        event.transport = source.transport;
        event.at = at ?? Date.now();
        observer.#deliver(event);
        if (observer.#counters !== 0) count((counts ??= observer.#table.of(source)), event);
      },
    };
  }
}

/** Counts an event; a malformed one is left uncounted, never thrown at the component emitting it. */
function count(counts: ComponentCounts, event: ObserverEvent): void {
  try {
    counts.count(event);
  } catch {
    // An emitter's bug: the figures miss this event, the component goes on.
  }
}

/** An emitter that drops everything: for a component run outside a runtime (tests, embedding). */
export const silentEmitter: Emitter = { active: false, emit: () => undefined };

/** ErrorInfo of anything thrown. */
export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? { code, message: err.message } : { message: err.message };
  }
  return { message: String(err) };
}
