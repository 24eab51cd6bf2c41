// The dashboard's live model of a running system, derived from the observer stream alone
// (it knows no model by name): every component as a node with its state, every input and
// output as a port, edges between services through the channels they share, and per node
// and per edge the figures a person watches — rate in and out, in flight, p50/p99 handling
// time over the last minute, errors, dead letters — with sparklines over the last minutes
// and a bounded index of recent messages' journeys.
//
// The figures come from the counts the observer keeps at each emitter (../port-counts.ts),
// read once a second and before every snapshot; each event itself is looked at only for
// journeys and states, and in the common case (no journey waits for anything, the budget of
// new journeys spent) that is one object read. Counting each event here cost ~10% of a
// saturated worker's throughput (finding the event's component and port in these tables, a
// dozen cache lines per message); counted at the emitter it is a few increments on objects
// the emitting component holds (bench/dashboard.ts).
//
// Memory is bounded: series and latency windows are fixed rings per port, ports are capped
// (names come from configuration, but a cap keeps a misbehaving emitter from growing it),
// and the journey index forgets the oldest ids.

import type { ComponentState, EventSource, ModelKind, Observer, ObserverEvent, PortCounting } from '../observer.js';
import { LATENCY_BUCKETS } from '../latency-buckets.js';
import type { ComponentCounts, CountTable, PortCounts } from '../port-counts.js';

/** One kind of event, as the model's method for it reads it. */
type EventOf<T extends ObserverEvent['type']> = Extract<ObserverEvent, { type: T }>;
import { BucketSeries } from './bucket-series.js';
import { JourneyIndex, type Hop, type IdList, type Journey, type JourneyIndexOptions } from './journeys.js';
import { LatencyWindow, quantilesOf } from './latency-window.js';
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
 * Figures of one port (a component's input or output channel), taken from the port's counts
 * at the emitter (PortCounts) when the model rolls: what came since the last roll goes into
 * the time series and the latency window at the roll's time, so the series' time arithmetic
 * is paid per port per second, not per message.
 */
class PortStats {
  readonly count: BucketSeries;
  readonly errors: BucketSeries;
  readonly dead: BucketSeries;
  readonly latency: LatencyWindow;
  /** The counts at the emitter this port reads, in their table (none for a port only declared). */
  counts: PortCounts | undefined;
  table: CountTable | undefined;
  /** The emitter's figures as of the last roll. */
  total = 0;
  errorTotal = 0;
  deadTotal = 0;
  rejected = 0;
  inFlight = 0;
  timed = 0;
  /** The emitter's duration counts as of the last roll, bucket by bucket. */
  seenLatency: Uint32Array | undefined;

  constructor(bucketMs: number, length: number, latencyWindowMs: number) {
    this.count = new BucketSeries(bucketMs, length);
    this.errors = new BucketSeries(bucketMs, length);
    this.dead = new BucketSeries(bucketMs, length);
    this.latency = new LatencyWindow(latencyWindowMs, 6);
  }

  /** Reads `counts` from now on; `baseline`: what they hold already happened before this model watched (not put in the series). */
  link(counts: PortCounts, table: CountTable, baseline: boolean): void {
    this.counts = counts;
    this.table = table;
    if (!baseline) return;
    this.total = counts.total;
    this.errorTotal = counts.errors;
    this.deadTotal = counts.dead;
    this.timed = counts.timed;
    const latency = table.latencyOf(counts);
    if (latency) this.seenLatency = Uint32Array.from(latency);
  }

  /** What the emitter counted since the last roll, in at `at`. `scratch`: LATENCY_BUCKETS counts to use. */
  roll(at: number, scratch: Uint32Array): void {
    const c = this.counts;
    const table = this.table;
    if (!c || !table) return;
    if (c.total !== this.total) {
      this.count.add(at, c.total - this.total);
      this.total = c.total;
    }
    if (c.errors !== this.errorTotal) {
      this.errors.add(at, c.errors - this.errorTotal);
      this.errorTotal = c.errors;
    }
    if (c.dead !== this.deadTotal) {
      this.dead.add(at, c.dead - this.deadTotal);
      this.deadTotal = c.dead;
    }
    this.rejected = c.rejected;
    this.inFlight = c.inFlight;
    const latency = c.timed !== this.timed ? table.latencyOf(c) : undefined;
    if (latency) {
      const seen = (this.seenLatency ??= new Uint32Array(LATENCY_BUCKETS));
      for (let b = 0; b < LATENCY_BUCKETS; b++) {
        // Unsigned differences: right across a count's wrap at 2^32.
        scratch[b] = (latency[b]! - seen[b]!) >>> 0;
        seen[b] = latency[b]!;
      }
      this.latency.addCounts(at, scratch, (c.timed - this.timed) >>> 0);
      this.timed = c.timed;
    }
  }
}

/** One table of counts this model reads, and how far it has read it. */
interface Reading {
  readonly counting: PortCounting;
  /** Per component of the table (same order), the version of its ports last linked. */
  readonly versions: number[];
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
  /** The observers' tables of counts this model reads. */
  readonly #readings: Reading[] = [];
  /** Counted ports that got no figures (past maxPorts). */
  readonly #beyondCap = new WeakSet<PortCounts>();
  /** Channels some component reads: only there is an id a journey produced expected to arrive. */
  readonly #read = new Set<string>();
  #rollAt = -Infinity;
  /** The time of the newest event seen: what was counted since the last roll is rolled in at it. */
  #lastAt = 0;
  #ports = 0;
  #untracked = 0;
  #version = 0;
  #topology: Topology | undefined;
  #probeFigures: ReadonlyMap<string, ChannelFigures> = new Map();
  #probing: Promise<void> | undefined;
  readonly #merged = new Float64Array(LATENCY_BUCKETS);
  readonly #scratch = new Uint32Array(LATENCY_BUCKETS);

  constructor(options: SystemModelOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#givenClock = options.now;
    this.#bucketMs = options.seriesBucketMs ?? 5_000;
    this.#length = options.seriesLength ?? 60;
    this.#rateWindowMs = options.rateWindowMs ?? 10_000;
    this.#latencyWindowMs = options.latencyWindowMs ?? 60_000;
    this.#maxPorts = options.maxPorts ?? 4_000;
    this.#journeys = new JourneyIndex(options.journeys, (channel) => this.#read.has(channel));
  }

  /**
   * Follows `observer` from now on; returns a function that stops following. The figures
   * come from the observer's counts (what it counted before is taken as history, not put in
   * the series); each event is looked at for journeys and states. An event that cannot be
   * read is dropped, never thrown at the emitter (which would stop the model listening for good).
   */
  attach(observer: Observer): () => void {
    const reading: Reading = { counting: observer.countPorts(), versions: [] };
    this.#readings.push(reading);
    this.#sync(reading, true);
    // The journey index says when no event can be recorded: the observer then does not call
    // this listener for units of work at all (most events of a busy process).
    const unlisten = observer.listen((e) => {
      try {
        this.onEvent(e);
      } catch {
        // A malformed event from an emitter: the figures miss it, the system goes on.
      }
    }, this.#journeys);
    // Events that reach the model roll the counts in; resting, it may see none for a while.
    const roll = setInterval(() => this.#tickNow(), ROLL_MS);
    roll.unref();
    return () => {
      clearInterval(roll);
      unlisten();
      reading.counting.stop();
      const i = this.#readings.indexOf(reading);
      if (i !== -1) this.#readings.splice(i, 1);
    };
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
   * One event of the stream: for journeys, states and the time to roll the counts at. Only
   * `type` is read here: each kind of event is read in its own method, where every event has
   * the same shape, so property reads stay monomorphic (read here, across the shapes of all
   * kinds, they went megamorphic: 301 ns a message against 179 in a direct loop).
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

  // Each event first rolls the counts in when a second has passed; then, almost always, one
  // read of the journey index says no journey can record it, before any component is looked
  // up. (These ran for every event before the model rested, and took their time inline then:
  // a time handed to a call not inlined is boxed. The observer now hands them over a few
  // times a budget token, so #tick serves them all.)

  #received(e: EventOf<'received'>): void {
    this.#tick(e.at);
    const journeys = this.#journeys;
    // Nothing in hand or expected anywhere, and no new id taken until restUntil.
    if (journeys.held === 0 && journeys.expecting === 0 && e.at < journeys.restUntil) return;
    const component = this.#component(e.model, e.service, e.transport);
    if (!component.inputs.has(e.input)) this.#addInput(component, { name: e.input });
    if (journeys.arriving(e.id, e.at, component.inHand, journeys.expectedOn(e.input))) this.#hop(e.id, e, component, { step: 'received', channel: e.input, attempt: e.attempt });
  }

  #handled(e: EventOf<'handled'>): void {
    this.#tick(e.at);
    const journeys = this.#journeys;
    if (journeys.held === 0 && !journeys.anyWanted) return;
    const component = this.#component(e.model, e.service, e.transport);
    const produced = e.produced;
    if (journeys.inHand(e.id, component.inHand, true)) this.#hop(e.id, e, component, { step: 'handled', channel: e.input, durationMs: e.durationMs, ...(produced?.length ? { produced } : {}) });
  }

  #failed(e: EventOf<'failed'>): void {
    this.#tick(e.at);
    const journeys = this.#journeys;
    if (journeys.held === 0 && !journeys.anyWanted) return;
    const component = this.#component(e.model, e.service, e.transport);
    if (journeys.inHand(e.id, component.inHand, false)) this.#hop(e.id, e, component, { step: 'failed', channel: e.input, durationMs: e.durationMs, error: e.error.message });
  }

  #deadLettered(e: EventOf<'dead-lettered'>): void {
    this.#tick(e.at);
    const journeys = this.#journeys;
    if (e.id === undefined || (journeys.held === 0 && !journeys.anyWanted)) return;
    const component = this.#component(e.model, e.service, e.transport);
    if (journeys.inHand(e.id, component.inHand, true)) this.#hop(e.id, e, component, { step: 'dead-lettered', channel: e.input, error: e.reason });
  }

  #sent(e: EventOf<'sent'>): void {
    this.#tick(e.at);
    const journeys = this.#journeys;
    if (journeys.held === 0 && e.at < journeys.restUntil) return;
    const component = this.#component(e.model, e.service, e.transport);
    if (journeys.outbound(e.id, e.at, component.inHand)) this.#hop(e.id, e, component, { step: 'sent', channel: e.output });
  }

  #called(e: EventOf<'called'>): void {
    this.#tick(e.at);
    const journeys = this.#journeys;
    if (journeys.held === 0 && e.at < journeys.restUntil) return;
    const component = this.#component(e.model, e.service, e.transport);
    if (journeys.outbound(e.id, e.at, component.inHand)) this.#hop(e.id, e, component, { step: 'called', channel: e.target, durationMs: e.durationMs, ...(e.error ? { error: e.error.message } : {}) });
  }

  #rejected(e: EventOf<'rejected'>): void {
    this.#tick(e.at);
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

  /** An event's time: its own (a clock read costs ~0.15 µs here), or the test's clock. Rolls the counts once a second. */
  #tick(at: number): void {
    const now = this.#givenClock ? this.#givenClock() : at;
    if (now >= this.#rollAt) this.#rollAt = this.#rollBefore(now);
    this.#lastAt = now;
  }

  /** A roll due by the clock (no event came to roll the counts in). */
  #tickNow(): void {
    const now = this.#now();
    if (now < this.#rollAt) return;
    if (now > this.#lastAt) this.#lastAt = now;
    this.#rollAt = this.#rollBefore(now);
  }

  /** Rolls the counts in; returns when to roll next. */
  #rollBefore(now: number): number {
    this.#roll();
    return now + ROLL_MS;
  }

  /** The topology as it stands (configuration merged with what was seen). */
  topology(): Topology {
    this.#syncAll();
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
      untracked: this.#untracked + this.#readings.reduce((n, r) => n + r.counting.table.untracked, 0),
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
    this.#read.add(p.name);
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

  /** Reads the table's components whose ports changed since last read. `baseline`: what they counted so far is history. */
  #sync(reading: Reading, baseline: boolean): void {
    const table = reading.counting.table;
    const components = table.components;
    for (let i = 0; i < components.length; i++) {
      const counts = components[i]!;
      if (reading.versions[i] === counts.version) continue;
      reading.versions[i] = counts.version;
      this.#link(counts, table, baseline);
    }
  }

  #syncAll(): void {
    for (const reading of this.#readings) this.#sync(reading, false);
  }

  /** A component's counted ports join the topology, each read by a port's figures. */
  #link(counts: ComponentCounts, table: CountTable, baseline: boolean): void {
    const component = this.#componentOf(counts.model, counts.service, counts.transport);
    for (const p of counts.inputs) {
      if (!component.inputs.has(p.name)) this.#addInput(component, { name: p.name });
      this.#statsFor(component.inStats, p, table, baseline);
    }
    for (const p of counts.outputs) {
      for (const label of p.labels) this.#addOutput(component, label === '' ? { name: p.name } : { name: p.name, label });
      this.#statsFor(component.outStats, p, table, baseline);
    }
  }

  /** The figures that read `p`, made once (a port past maxPorts is counted untracked once, not at every later look). */
  #statsFor(into: Map<string, PortStats>, p: PortCounts, table: CountTable, baseline: boolean): void {
    if (this.#beyondCap.has(p)) return;
    const s = into.get(p.name) ?? this.#newStats(into, p.name);
    if (!s) this.#beyondCap.add(p);
    else if (s.counts !== p) s.link(p, table, baseline);
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

  /** What was counted since the last roll into the series, at the time of the newest event seen (it came within the second before). */
  #roll(): void {
    this.#syncAll();
    const all = this.#allStats;
    for (let i = 0; i < all.length; i++) all[i]!.roll(this.#lastAt, this.#scratch);
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
