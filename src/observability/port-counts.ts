// Counts of every component's ports (its inputs and outputs), kept where events are emitted
// while a watcher reads them (Observer.countPorts): units in and out, in flight, errors,
// dead letters, rejected frames, and a histogram of durations. A watcher that needs figures
// and not each event (the dashboard) reads these once a second instead of counting each
// event itself.
//
// Why here and not in the watcher: counting in a listener meant finding the component and
// the port of each event in the watcher's own tables, a dozen cache lines away from what the
// emitting component was touching; in a process streaming messages that cost ~1 µs a
// message, ~10% of a saturated worker (bench/dashboard.ts). The emitter knows its component:
// its counts are one object it holds, the port the last one it counted (most events repeat
// it).
//
// Bounded: ports are capped per table (a misbehaving emitter inventing input names is
// counted in `untracked`), output labels per port too.

import { LATENCY_BUCKETS, latencyBucketOf } from './latency-buckets.js';
import type { EventSource, ModelKind, ObserverEvent } from './observer-events.js';

/** One kind of event, as the method for it reads it. */
type EventOf<T extends ObserverEvent['type']> = Extract<ObserverEvent, { type: T }>;

/** Labels (case values) one output port keeps at most; more are counted, not listed. */
const MAX_LABELS = 64;

/** The counts of one port. Every figure only grows, except `inFlight`: a reader takes differences. */
export class PortCounts {
  /** Inputs: units received (every attempt); outputs: units sent, or calls made. */
  total = 0;
  /** Inputs: received and not yet handled, failed or dead-lettered. */
  inFlight = 0;
  /** Failed handlings, failed calls, rejected frames. */
  errors = 0;
  /** Dead-lettered units. */
  dead = 0;
  /** Frames refused before anything was handled. */
  rejected = 0;
  /** Durations counted into this port's slice of CountTable.latency. */
  timed = 0;
  /** Where this port's LATENCY_BUCKETS counts start in CountTable.latency (-1 until it times something). */
  latencyAt = -1;
  /** Outputs: the labels seen ('' for none), in the order first seen. */
  readonly labels: string[] = [];

  constructor(readonly name: string) {}
}

/** The counts of one component (a model's service), by port. */
export class ComponentCounts {
  transport: string;
  /** Bumped when a port or an output's label is first seen: a reader then looks at the ports again. */
  version = 0;
  readonly inputs: PortCounts[] = [];
  readonly outputs: PortCounts[] = [];
  readonly #table: CountTable;
  readonly #byInput = new Map<string, PortCounts>();
  readonly #byOutput = new Map<string, PortCounts>();
  #lastIn: PortCounts | undefined;
  #lastOut: PortCounts | undefined;
  #lastOutLabel = '';

  constructor(
    readonly model: ModelKind,
    readonly service: string,
    transport: string,
    table: CountTable,
  ) {
    this.transport = transport;
    this.#table = table;
  }

  /**
   * Counts one event. Only `type` is read here; each kind is read in its own method, where
   * every event has the same shape (property reads read across the shapes of all kinds go
   * megamorphic, and cost the dashboard's model 301 ns a message against 179).
   */
  count(e: ObserverEvent): void {
    switch (e.type) {
      case 'received':
        return this.#received(e);
      case 'handled':
        return this.#handled(e);
      case 'sent':
        return this.#sent(e);
      case 'called':
        return this.#called(e);
      case 'failed':
        return this.#failed(e);
      case 'dead-lettered':
        return this.#deadLettered(e);
      case 'rejected':
        return this.#rejected(e);
      case 'state':
        return;
    }
  }

  #received(e: EventOf<'received'>): void {
    const p = this.#input(e.input);
    if (p) {
      p.total++;
      p.inFlight++;
    }
  }

  #handled(e: EventOf<'handled'>): void {
    const p = this.#input(e.input);
    if (p) {
      if (p.inFlight > 0) p.inFlight--;
      // The bucket, an integer, is what crosses the call: a double handed to a call that is
      // not inlined is boxed, an allocation per event.
      this.#table.time(p, latencyBucketOf(e.durationMs));
    }
    const produced = e.produced;
    if (produced) {
      for (let i = 0; i < produced.length; i++) {
        const o = this.#output(produced[i]!.output, produced[i]!.label);
        if (o) o.total++;
      }
    }
  }

  #failed(e: EventOf<'failed'>): void {
    const p = this.#input(e.input);
    if (p) {
      if (p.inFlight > 0) p.inFlight--;
      this.#table.time(p, latencyBucketOf(e.durationMs));
      p.errors++;
    }
  }

  #deadLettered(e: EventOf<'dead-lettered'>): void {
    const p = this.#input(e.input);
    if (p) {
      // Without an id nothing was reported received (a bad id): it was never in flight.
      if (e.id !== undefined && p.inFlight > 0) p.inFlight--;
      p.dead++;
    }
  }

  #sent(e: EventOf<'sent'>): void {
    const o = this.#output(e.output, e.label);
    if (o) o.total++;
  }

  #called(e: EventOf<'called'>): void {
    const o = this.#output(e.target, undefined);
    if (o) {
      o.total++;
      this.#table.time(o, latencyBucketOf(e.durationMs));
      if (e.error) o.errors++;
    }
  }

  #rejected(e: EventOf<'rejected'>): void {
    const p = this.#input(e.input);
    if (p) {
      p.rejected++;
      p.errors++;
    }
  }

  #input(name: string): PortCounts | undefined {
    const last = this.#lastIn;
    if (last !== undefined && last.name === name) return last;
    const p = this.#port(this.#byInput, this.inputs, name);
    if (p) this.#lastIn = p;
    return p;
  }

  #output(name: string, label: string | undefined): PortCounts | undefined {
    const key = label ?? '';
    const last = this.#lastOut;
    if (last !== undefined && last.name === name && this.#lastOutLabel === key) return last;
    const p = this.#port(this.#byOutput, this.outputs, name);
    if (!p) return undefined;
    if (!p.labels.includes(key) && p.labels.length < MAX_LABELS) {
      p.labels.push(key);
      this.version++;
    }
    this.#lastOut = p;
    this.#lastOutLabel = key;
    return p;
  }

  /** The port `name` of one side, made (and the version bumped) the first time; undefined past the table's cap. */
  #port(byName: Map<string, PortCounts>, list: PortCounts[], name: string): PortCounts | undefined {
    let p = byName.get(name);
    if (!p) {
      p = this.#table.port(name);
      if (!p) return undefined;
      byName.set(name, p);
      list.push(p);
      this.version++;
    }
    return p;
  }
}

/** Every component's counts in one process (one per Observer). */
export class CountTable {
  /** In the order first seen: a reader walks it, and finds the new ones past what it has seen. */
  readonly components: ComponentCounts[] = [];
  /**
   * Every port's duration histogram, LATENCY_BUCKETS counts each, in one array (a port's
   * slice starts at its latencyAt): its header stays in cache, one cache line less per
   * timed event than an array per port. Replaced when it grows: read it through the table.
   */
  latency = new Uint32Array(LATENCY_BUCKETS * 16);
  /** Ports not counted, past maxPorts. */
  untracked = 0;
  readonly #byKey = new Map<string, ComponentCounts>();
  #ports = 0;
  #slices = 0;

  constructor(readonly maxPorts = 4_000) {}

  /** The counts of the component `source` reports for (one per model and service: its transport is the latest named). */
  of(source: EventSource): ComponentCounts {
    const key = `${source.model}\u0000${source.service}`;
    let c = this.#byKey.get(key);
    if (!c) {
      c = new ComponentCounts(source.model, source.service, source.transport, this);
      this.#byKey.set(key, c);
      this.components.push(c);
    } else if (source.transport && c.transport !== source.transport) {
      c.transport = source.transport;
      c.version++;
    }
    return c;
  }

  /** A new port, or undefined past maxPorts (counted as untracked). */
  port(name: string): PortCounts | undefined {
    if (this.#ports >= this.maxPorts) {
      this.untracked++;
      return undefined;
    }
    this.#ports++;
    return new PortCounts(name);
  }

  /** One duration of `p`, by its latencyBucketOf. */
  time(p: PortCounts, bucket: number): void {
    if (p.latencyAt < 0) p.latencyAt = this.#slice();
    this.latency[p.latencyAt + bucket]!++;
    p.timed++;
  }

  /** The counts of the durations `p` timed: a view, valid until the table grows (read it again each time). */
  latencyOf(p: PortCounts): Uint32Array | undefined {
    return p.latencyAt < 0 ? undefined : this.latency.subarray(p.latencyAt, p.latencyAt + LATENCY_BUCKETS);
  }

  /** Nothing is in flight: counting resumes after a pause in which units finished uncounted. */
  clearInFlight(): void {
    for (const c of this.components) {
      for (const p of c.inputs) p.inFlight = 0;
    }
  }

  #slice(): number {
    if ((this.#slices + 1) * LATENCY_BUCKETS > this.latency.length) {
      const grown = new Uint32Array(this.latency.length * 2);
      grown.set(this.latency);
      this.latency = grown;
    }
    return this.#slices++ * LATENCY_BUCKETS;
  }
}
