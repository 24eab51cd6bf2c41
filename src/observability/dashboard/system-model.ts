// The dashboard's live model of a running system, derived from the observer stream alone
// (it knows no model by name): every component as a node with its state, every input and
// output as a port, edges between services through the channels they share, and per node
// and per edge the figures a person watches — rate in and out, in flight, p50/p99 handling
// time over the last minute, errors, dead letters — with sparklines over the last minutes
// and a bounded index of recent messages' journeys.
//
// Memory is bounded: series and latency windows are fixed rings per port, ports are capped
// (names come from configuration, but a cap keeps a misbehaving emitter from growing it),
// and the journey index forgets the oldest ids.

import type { ComponentState, EventSource, ModelKind, Observer, ObserverEvent } from '../observer.js';

/** One kind of event, as the model's method for it reads it. */
type EventOf<T extends ObserverEvent['type']> = Extract<ObserverEvent, { type: T }>;
import { BucketSeries } from './bucket-series.js';
import { JourneyIndex, type Hop, type IdList, type Journey, type JourneyIndexOptions } from './journeys.js';
import { LATENCY_BUCKETS, LatencyWindow, latencyBucketOf, quantilesOf } from './latency-window.js';
import type { ChannelFigures, Probe, ProbeChannel } from './probe.js';
import type { EdgeSnapshot, Figures, NodeSnapshot, Series, Snapshot } from './snapshot.js';
import { buildTopology, serviceNodeId, type ComponentPorts, type Port, type Topology } from './topology.js';

export interface SystemModelOptions {
  /** The clock (tests pass their own). */
  readonly now?: () => number;
  /** One sparkline point covers this long. Default 5000 ms. */
  readonly seriesBucketMs?: number;
  /** Points per sparkline. Default 60 (five minutes at 5 s). */
  readonly seriesLength?: number;
  /** Rates are taken over about this long. Default 10000 ms. */
  readonly rateWindowMs?: number;
  /** p50/p99 are taken over this long. Default 60000 ms. */
  readonly latencyWindowMs?: number;
  /** Most ports (component × channel) tracked. Default 4000. */
  readonly maxPorts?: number;
  readonly journeys?: JourneyIndexOptions;
}

/**
 * Every port's durations since the last roll, in one array: a port's histogram is a slice
 * of it. One typed array for all ports instead of one each: its header stays in cache, so
 * a timed event touches one cache line less (in a running worker the model's cost is mostly
 * cache misses; bench/dashboard.ts).
 */
class PendingLatencies {
  counts = new Uint32Array(LATENCY_BUCKETS * 16);
  #slices = 0;

  /** A new port's slice: where its LATENCY_BUCKETS counts start. Ports are never dropped (and capped by maxPorts). */
  slice(): number {
    if ((this.#slices + 1) * LATENCY_BUCKETS > this.counts.length) {
      const grown = new Uint32Array(this.counts.length * 2);
      grown.set(this.counts);
      this.counts = grown;
    }
    return this.#slices++ * LATENCY_BUCKETS;
  }
}

/**
 * Figures of one port: a component's input or output channel. Per event only plain counters
 * move (`total`, the port's slice of the pending latency counts); the model rolls them into
 * the time series and the latency window once a second and before every read (#roll), so
 * the series' time arithmetic is paid per port per second, not per message (bench/dashboard.ts).
 */
class PortStats {
  readonly count: BucketSeries;
  readonly errors: BucketSeries;
  readonly dead: BucketSeries;
  readonly latency: LatencyWindow;
  /** `total` when it was last rolled into `count`: what came since is total − rolled. */
  rolled = 0;
  /** Where this port's slice of PendingLatencies starts (-1 until it times something). */
  latencyAt = -1;
  pendingLatencyTotal = 0;
  inFlight = 0;
  total = 0;
  errorTotal = 0;
  deadTotal = 0;
  rejected = 0;
  /** Outputs: the labels (case values, '' for none) already added to the topology. */
  labels: Set<string> | undefined;
  /** Inputs: the ids journeys expect on this channel (shared by every component reading it). */
  expected: IdList | undefined;

  constructor(bucketMs: number, length: number, latencyWindowMs: number) {
    this.count = new BucketSeries(bucketMs, length);
    this.errors = new BucketSeries(bucketMs, length);
    this.dead = new BucketSeries(bucketMs, length);
    this.latency = new LatencyWindow(latencyWindowMs, 6);
  }

  /** One duration, by its latencyBucketOf (an integer: a double handed to a call not inlined is boxed, an allocation per event). */
  time(pending: PendingLatencies, bucket: number): void {
    if (this.latencyAt < 0) this.latencyAt = pending.slice();
    pending.counts[this.latencyAt + bucket]!++;
    this.pendingLatencyTotal++;
  }

  roll(at: number, pending: PendingLatencies): void {
    if (this.total !== this.rolled) {
      this.count.add(at, this.total - this.rolled);
      this.rolled = this.total;
    }
    if (this.pendingLatencyTotal !== 0) {
      const end = this.latencyAt + LATENCY_BUCKETS;
      this.latency.addCounts(at, pending.counts.subarray(this.latencyAt, end), this.pendingLatencyTotal);
      pending.counts.fill(0, this.latencyAt, end);
      this.pendingLatencyTotal = 0;
    }
  }
}

/** How often per-event counters are rolled into the series while events flow. */
const ROLL_MS = 1_000;

interface Component {
  /** serviceNodeId(source), made once. */
  readonly id: string;
  /** The source's fields on the component itself (no source object): the per-event check reads one object, not two. */
  readonly model: ModelKind;
  readonly service: string;
  transport: string;
  state?: ComponentState;
  error?: string;
  readonly inputs: Map<string, Port>;
  /** Keyed by name and label: one channel may be chosen by several case values. */
  readonly outputs: Map<string, Port>;
  readonly inStats: Map<string, PortStats>;
  readonly outStats: Map<string, PortStats>;
  /** Journeys' ids this component received and took, until done. */
  readonly inHand: IdList;
  /** The port the last event was about, in and out: most events repeat it (no map lookup). */
  lastIn?: PortStats;
  lastInName?: string;
  lastOut?: PortStats;
  lastOutName?: string;
  lastOutLabel?: string;
}

const QUANTILES = [0.5, 0.99] as const;
const NO_QUANTILES = [undefined, undefined] as const;
const ZERO_FIGURES: Figures = { rateIn: 0, rateOut: 0, inFlight: 0, received: 0, sent: 0, errors: 0, deadLetters: 0, rejected: 0 };

export class SystemModel {
  readonly #now: () => number;
  /** The clock given in options (tests); without one an event is counted at its own `at`. */
  readonly #givenClock: (() => number) | undefined;
  readonly #bucketMs: number;
  readonly #length: number;
  readonly #rateWindowMs: number;
  readonly #latencyWindowMs: number;
  readonly #maxPorts: number;
  readonly #components = new Map<string, Component>();
  /** service → its components (one per model that has a service of that name): the per-event lookup is one map read and makes no string. */
  readonly #byService = new Map<string, Component[]>();
  readonly #journeys: JourneyIndex;
  #lastComponent: Component | undefined;
  /** Every port's figures, for #roll. */
  readonly #allStats: PortStats[] = [];
  #rollAt = -Infinity;
  /** The time of the newest event counted: what is pending is rolled in at it. */
  #lastAt = 0;
  #ports = 0;
  #untracked = 0;
  #version = 0;
  #topology: Topology | undefined;
  #probeFigures: ReadonlyMap<string, ChannelFigures> = new Map();
  #probing: Promise<void> | undefined;
  readonly #merged = new Float64Array(LATENCY_BUCKETS);
  readonly #pending = new PendingLatencies();

  constructor(options: SystemModelOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#givenClock = options.now;
    this.#bucketMs = options.seriesBucketMs ?? 5_000;
    this.#length = options.seriesLength ?? 60;
    this.#rateWindowMs = options.rateWindowMs ?? 10_000;
    this.#latencyWindowMs = options.latencyWindowMs ?? 60_000;
    this.#maxPorts = options.maxPorts ?? 4_000;
    this.#journeys = new JourneyIndex(options.journeys);
  }

  /**
   * Follows `observer` from now on; returns a function that stops following. Each event is
   * counted as it comes: queueing them to count a batch at a time was cheaper in a direct
   * loop but dearer in a running system (events kept alive across young collections get
   * promoted; bench/dashboard.ts, 2026-12-07). An event that cannot be counted is dropped,
   * never thrown at the emitter (which would stop the model listening for good).
   */
  attach(observer: Observer): () => void {
    return observer.listen((e) => {
      try {
        this.onEvent(e);
      } catch {
        // A malformed event from an emitter: the figures miss it, the system goes on.
      }
    });
  }

  /** Components known from configuration before (or without) seeing them run. */
  declare(components: readonly ComponentPorts[]): void {
    for (const c of components) {
      const component = this.#component(c.source.model, c.source.service, c.source.transport);
      for (const p of c.inputs) this.#addInput(component, p);
      for (const p of c.outputs) this.#addOutput(component, p);
    }
  }

  /** A component's state as known elsewhere (the runtime's health), for components whose "ready" came before the dashboard. */
  setState(source: EventSource, state: ComponentState, error?: string): void {
    const component = this.#component(source.model, source.service, source.transport);
    component.state ??= state;
    if (error !== undefined && component.error === undefined) component.error = error;
  }

  /**
   * Counts one event of the stream. Only `type` is read here: each kind of event is read in
   * its own method, where every event has the same shape, so property reads stay
   * monomorphic. Read here, across the shapes of all kinds, they went megamorphic: in a
   * direct loop with events of every kind the model cost 301 ns a message against 179.
   */
  onEvent(e: ObserverEvent): void {
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
        return this.#state(e);
    }
  }

  // The four events of every unit of work (received, handled, sent, called) take their time
  // inline, not through #tick: a time handed to a call that is not inlined is boxed, an
  // allocation per event (~24 young collections per 4 million events; one without).

  #received(e: EventOf<'received'>): void {
    const component = this.#component(e.model, e.service, e.transport);
    const now = this.#givenClock ? this.#givenClock() : e.at;
    if (now >= this.#rollAt) this.#rollAt = this.#rollBefore(now);
    this.#lastAt = now;
    const s = this.#inStats(component, e.input);
    if (s) {
      s.total++;
      s.inFlight++;
    }
    const journeys = this.#journeys;
    const expected = s?.expected ?? journeys.expectedAt(e.input);
    // Most arrivals: nothing expected here, nothing in hand, no new id taken until idleUntil.
    if (expected.length === 0 && component.inHand.length === 0 && e.at < journeys.idleUntil) return;
    if (journeys.arriving(e.id, e.at, component.inHand, expected)) this.#hop(e.id, e, component, { step: 'received', channel: e.input, attempt: e.attempt });
  }

  #handled(e: EventOf<'handled'>): void {
    const component = this.#component(e.model, e.service, e.transport);
    const now = this.#givenClock ? this.#givenClock() : e.at;
    if (now >= this.#rollAt) this.#rollAt = this.#rollBefore(now);
    this.#lastAt = now;
    const s = this.#inStats(component, e.input);
    if (s) {
      if (s.inFlight > 0) s.inFlight--;
      s.time(this.#pending, latencyBucketOf(e.durationMs));
    }
    const produced = e.produced;
    if (produced) {
      for (let i = 0; i < produced.length; i++) {
        const p = produced[i]!;
        const out = this.#outStats(component, p.output, p.label);
        if (out) out.total++;
      }
    }
    if ((component.inHand.length !== 0 || this.#journeys.anyWanted) && this.#journeys.inHand(e.id, component.inHand, true)) this.#hop(e.id, e, component, { step: 'handled', channel: e.input, durationMs: e.durationMs, ...(produced?.length ? { produced } : {}) });
  }

  #failed(e: EventOf<'failed'>): void {
    const component = this.#component(e.model, e.service, e.transport);
    const now = this.#tick(e.at);
    const s = this.#inStats(component, e.input);
    if (s) {
      if (s.inFlight > 0) s.inFlight--;
      s.time(this.#pending, latencyBucketOf(e.durationMs));
      s.errors.add(now);
      s.errorTotal++;
    }
    if (this.#journeys.inHand(e.id, component.inHand, false)) this.#hop(e.id, e, component, { step: 'failed', channel: e.input, durationMs: e.durationMs, error: e.error.message });
  }

  #deadLettered(e: EventOf<'dead-lettered'>): void {
    const component = this.#component(e.model, e.service, e.transport);
    const now = this.#tick(e.at);
    const s = this.#inStats(component, e.input);
    if (s) {
      if (e.id !== undefined) s.inFlight = Math.max(0, s.inFlight - 1);
      s.dead.add(now);
      s.deadTotal++;
    }
    if (e.id !== undefined && this.#journeys.inHand(e.id, component.inHand, true)) this.#hop(e.id, e, component, { step: 'dead-lettered', channel: e.input, error: e.reason });
  }

  #sent(e: EventOf<'sent'>): void {
    const component = this.#component(e.model, e.service, e.transport);
    const now = this.#givenClock ? this.#givenClock() : e.at;
    if (now >= this.#rollAt) this.#rollAt = this.#rollBefore(now);
    this.#lastAt = now;
    const out = this.#outStats(component, e.output, e.label);
    if (out) out.total++;
    if ((component.inHand.length !== 0 || e.at >= this.#journeys.idleUntil) && this.#journeys.outbound(e.id, e.at, component.inHand)) this.#hop(e.id, e, component, { step: 'sent', channel: e.output });
  }

  #called(e: EventOf<'called'>): void {
    const component = this.#component(e.model, e.service, e.transport);
    const now = this.#givenClock ? this.#givenClock() : e.at;
    if (now >= this.#rollAt) this.#rollAt = this.#rollBefore(now);
    this.#lastAt = now;
    const out = this.#outStats(component, e.target, undefined);
    if (out) {
      out.total++;
      out.time(this.#pending, latencyBucketOf(e.durationMs));
      if (e.error) {
        out.errors.add(now);
        out.errorTotal++;
      }
    }
    if ((component.inHand.length !== 0 || e.at >= this.#journeys.idleUntil) && this.#journeys.outbound(e.id, e.at, component.inHand)) this.#hop(e.id, e, component, { step: 'called', channel: e.target, durationMs: e.durationMs, ...(e.error ? { error: e.error.message } : {}) });
  }

  #rejected(e: EventOf<'rejected'>): void {
    const component = this.#component(e.model, e.service, e.transport);
    const now = this.#tick(e.at);
    const s = this.#inStats(component, e.input);
    if (s) {
      s.rejected++;
      s.errors.add(now);
      s.errorTotal++;
    }
  }

  #state(e: EventOf<'state'>): void {
    const component = this.#component(e.model, e.service, e.transport);
    this.#tick(e.at);
    component.state = e.state;
    if (e.error) component.error = e.error.message;
    else if (e.state === 'ready' || e.state === 'starting') delete component.error;
    for (const p of e.inputs ?? []) this.#addInput(component, p);
    for (const p of e.outputs ?? []) this.#addOutput(component, p);
  }

  /**
   * The time an event is counted at: its own (a clock read costs ~0.15 µs here, and this
   * runs twice per message), or the test's clock. Rolls the counters once a second. For the
   * rarer events; the four of every unit of work do the same inline (see above).
   */
  #tick(at: number): number {
    const now = this.#givenClock ? this.#givenClock() : at;
    if (now >= this.#rollAt) this.#rollAt = this.#rollBefore(now);
    this.#lastAt = now;
    return now;
  }

  /** Rolls the counters (the events before `now` are counted); returns when to roll next. */
  #rollBefore(now: number): number {
    this.#roll();
    return now + ROLL_MS;
  }

  /** The topology as it stands (configuration merged with what was seen). */
  topology(): Topology {
    this.#topology ??= buildTopology([...this.#components.values()].map((c) => ({
      source: { model: c.model, service: c.service, transport: c.transport },
      inputs: [...c.inputs.values()],
      outputs: [...c.outputs.values()],
    })));
    return this.#topology;
  }

  journey(id: string): Journey | undefined {
    return this.#journeys.journey(id, this.#now());
  }

  recentIds(limit?: number): string[] {
    return this.#journeys.recent(limit);
  }

  /** Every channel of the topology, for probes. */
  channels(): ProbeChannel[] {
    const seen = new Map<string, ProbeChannel>();
    for (const e of this.topology().edges) if (!seen.has(e.channel)) seen.set(e.channel, { name: e.channel, ...(e.kind ? { kind: e.kind } : {}) });
    return [...seen.values()];
  }

  /**
   * Asks every probe about the channels (at most one round at a time; a probe that fails or
   * takes longer than timeoutMs leaves its channels without figures this round).
   */
  pollProbes(probes: readonly Probe[], timeoutMs = 2_000): Promise<void> {
    this.#probing ??= (async () => {
      const channels = this.channels();
      const merged = new Map<string, ChannelFigures>();
      const answers = await Promise.all(probes.map((p) => withTimeout(p.probe(channels), timeoutMs).catch(() => undefined)));
      for (const answer of answers) for (const [name, figures] of answer ?? []) merged.set(name, { ...merged.get(name), ...figures });
      this.#probeFigures = merged;
    })().finally(() => {
      this.#probing = undefined;
    });
    return this.#probing;
  }

  snapshot(): Snapshot {
    const now = this.#now();
    this.#roll();
    const topology = this.topology();
    const nodes: NodeSnapshot[] = topology.nodes.map((node) => {
      if (node.type === 'channel') {
        const probe = this.#probeFigures.get(node.name);
        return probe ? { ...node, probe } : node;
      }
      const c = this.#components.get(node.id);
      if (!c) return node;
      const figures = this.#figures(now, [...c.inStats.values()], [...c.outStats.values()]);
      return {
        ...node,
        ...(c.state ? { state: c.state } : {}),
        ...(c.error !== undefined ? { error: c.error } : {}),
        figures,
        series: this.#series(now, [...c.inStats.values()], [...c.outStats.values()]),
      };
    });
    const edges: EdgeSnapshot[] = topology.edges.map((edge) => {
      const ins = statsOf(this.#components.get(edge.to)?.inStats.get(edge.channel));
      const outs = statsOf(this.#components.get(edge.from)?.outStats.get(edge.channel));
      const probe = this.#probeFigures.get(edge.channel);
      return { ...edge, figures: this.#figures(now, ins, outs), series: this.#series(now, ins, outs), ...(probe ? { probe } : {}) };
    });
    const all = [...this.#components.values()];
    return {
      at: now,
      topologyVersion: this.#version,
      seriesBucketMs: this.#bucketMs,
      seriesLength: this.#length,
      nodes,
      edges,
      totals: this.#figures(now, all.flatMap((c) => [...c.inStats.values()]), all.flatMap((c) => [...c.outStats.values()])),
      untracked: this.#untracked,
      models: [...new Set(all.map((c) => c.model))].sort(),
    };
  }

  // ---- internals

  #component(model: ModelKind, service: string, transport: string): Component {
    // A message's events come from one component, often one after another: no map lookup.
    const last = this.#lastComponent;
    if (last && last.service === service && last.model === model && (last.transport === transport || !transport)) return last;
    this.#lastComponent = this.#componentOf(model, service, transport);
    return this.#lastComponent;
  }

  #componentOf(model: ModelKind, service: string, transport: string): Component {
    let named = this.#byService.get(service);
    if (!named) this.#byService.set(service, (named = []));
    let c: Component | undefined;
    for (let i = 0; i < named.length; i++) if (named[i]!.model === model) c = named[i];
    if (!c) {
      c = { id: serviceNodeId({ model, service }), model, service, transport, inputs: new Map(), outputs: new Map(), inStats: new Map(), outStats: new Map(), inHand: this.#journeys.list() };
      this.#components.set(c.id, c);
      named.push(c);
      this.#changed();
    } else if (c.transport !== transport && transport) {
      c.transport = transport;
      this.#changed();
    }
    return c;
  }

  #addInput(c: Component, p: Port): void {
    const known = c.inputs.get(p.name);
    if (known && (known.kind || !p.kind)) return;
    c.inputs.set(p.name, { name: p.name, ...(p.kind ? { kind: p.kind } : {}) });
    this.#changed();
  }

  #addOutput(c: Component, p: Port): void {
    const key = `${p.name}\u0000${p.label ?? ''}`;
    const known = c.outputs.get(key);
    if (known && (known.kind || !p.kind)) return;
    // A kind learnt from a declaration also tells the live-seen ports of the same channel.
    const kind = p.kind ?? [...c.outputs.values()].find((o) => o.name === p.name && o.kind)?.kind;
    c.outputs.set(key, { name: p.name, ...(kind ? { kind } : {}), ...(p.label !== undefined ? { label: p.label } : {}) });
    this.#changed();
  }

  #inStats(c: Component, input: string): PortStats | undefined {
    if (input === c.lastInName) return c.lastIn;
    const s = c.inStats.get(input);
    if (s) {
      c.lastInName = input;
      c.lastIn = s;
      return s;
    }
    if (!c.inputs.has(input)) this.#addInput(c, { name: input });
    const made = this.#newStats(c.inStats, input);
    if (made) made.expected = this.#journeys.expectedAt(input);
    return made;
  }

  /** Per event: no object or string is made once the port and its label are known. */
  #outStats(c: Component, name: string, label: string | undefined): PortStats | undefined {
    if (name === c.lastOutName && label === c.lastOutLabel) return c.lastOut;
    const known = c.outStats.get(name);
    const labelKey = label ?? '';
    if (known?.labels?.has(labelKey)) {
      c.lastOutName = name;
      c.lastOutLabel = label;
      c.lastOut = known;
      return known;
    }
    this.#addOutput(c, label !== undefined ? { name, label } : { name });
    const s = known ?? this.#newStats(c.outStats, name);
    if (s) (s.labels ??= new Set()).add(labelKey);
    return s;
  }

  #newStats(into: Map<string, PortStats>, name: string): PortStats | undefined {
    if (this.#ports >= this.#maxPorts) {
      this.#untracked++;
      return undefined;
    }
    this.#ports++;
    const s = new PortStats(this.#bucketMs, this.#length, this.#latencyWindowMs);
    into.set(name, s);
    this.#allStats.push(s);
    return s;
  }

  /** Per-event counters into the series, at the time of the newest event counted (they came within the second before it). */
  #roll(): void {
    const all = this.#allStats;
    for (let i = 0; i < all.length; i++) all[i]!.roll(this.#lastAt, this.#pending);
    this.#journeys.expire(this.#lastAt);
  }

  #hop(id: string, e: ObserverEvent, c: Component, hop: Omit<Hop, 'at' | 'node' | 'service' | 'model'>): void {
    this.#journeys.add(id, { at: e.at, node: c.id, service: e.service, model: e.model, ...hop });
  }

  #changed(): void {
    this.#version++;
    this.#topology = undefined;
  }

  #figures(now: number, ins: readonly PortStats[], outs: readonly PortStats[]): Figures {
    if (ins.length === 0 && outs.length === 0) return ZERO_FIGURES;
    let rateIn = 0, rateOut = 0, inFlight = 0, received = 0, sent = 0, errors = 0, deadLetters = 0, rejected = 0;
    for (const s of ins) {
      rateIn += s.count.rate(now, this.#rateWindowMs);
      inFlight += s.inFlight;
      received += s.total;
      errors += s.errorTotal;
      deadLetters += s.deadTotal;
      rejected += s.rejected;
    }
    for (const s of outs) {
      rateOut += s.count.rate(now, this.#rateWindowMs);
      sent += s.total;
      errors += s.errorTotal;
    }
    // Handling time where the node handles work; call time for a node that only calls.
    // One scratch histogram for every figure of a snapshot (none made per node or edge).
    const merged = this.#merged.fill(0);
    let recorded = 0;
    for (const s of ins) recorded += s.latency.addInto(now, merged);
    if (recorded === 0) for (const s of outs) recorded += s.latency.addInto(now, merged);
    const [p50, p99] = recorded === 0 ? NO_QUANTILES : quantilesOf(merged, QUANTILES);
    return {
      rateIn: round(rateIn), rateOut: round(rateOut), inFlight, received, sent, errors, deadLetters, rejected,
      ...(p50 !== undefined ? { p50Ms: round(p50) } : {}),
      ...(p99 !== undefined ? { p99Ms: round(p99) } : {}),
    };
  }

  #series(now: number, ins: readonly PortStats[], outs: readonly PortStats[]): Series {
    const zero = () => new Array<number>(this.#length).fill(0);
    const series = { in: zero(), out: zero(), errors: zero(), deadLetters: zero() };
    for (const s of ins) {
      s.count.addInto(now, series.in);
      s.errors.addInto(now, series.errors);
      s.dead.addInto(now, series.deadLetters);
    }
    for (const s of outs) {
      s.count.addInto(now, series.out);
      s.errors.addInto(now, series.errors);
    }
    return series;
  }
}

function statsOf(s: PortStats | undefined): PortStats[] {
  return s ? [s] : [];
}

function round(n: number): number {
  return n >= 100 ? Math.round(n) : Math.round(n * 100) / 100;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
