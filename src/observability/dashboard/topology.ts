// The topology of a system as a list of nodes and edges: the one structure that the
// dashboard draws live and that `switchyard topology` renders as a picture. It is built
// from what each component declares (its inputs and outputs, reported with "ready" or
// read from configuration) and from what is seen live; anything that lists components
// with their edges plugs in (a system map today, the other models' static edges later).
//
// Services are nodes. A channel (queue, topic, RPC, address, route, socket) with both a
// producer and a consumer in the system becomes edges producer → consumer, labelled with
// the channel and the case values that select it; a channel with only one side (an end
// queue, a queue fed from outside) becomes a small channel node of its own, so nothing a
// service touches is left out of the picture.

import type { Edge, EventSource, ModelKind } from '../observer.js';

export type ChannelKind = Edge['kind'];

/** One end of a component: a channel it reads from or sends to. */
export interface Port {
  /** The channel's name on the wire (queue, stream, RPC, address, route, socket path). */
  readonly name: string;
  /** What it is, when known (an output seen live may not say). */
  readonly kind?: ChannelKind;
  /** What selects it: a worker's case value. */
  readonly label?: string;
}

/** A component as the topology needs it: who, and its inputs and outputs. */
export interface ComponentPorts {
  readonly source: EventSource;
  readonly inputs: readonly Port[];
  readonly outputs: readonly Port[];
}

export interface TopologyNode {
  /** "model:service" for services, "channel:name" for channel nodes. */
  readonly id: string;
  readonly type: 'service' | 'channel';
  /** The service's or channel's name, as drawn. */
  readonly name: string;
  readonly model?: ModelKind;
  readonly transport?: string;
  /** Channel nodes: what the channel is, when known. */
  readonly kind?: ChannelKind;
}

export interface TopologyEdge {
  /** "from->to@channel". */
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly channel: string;
  readonly kind?: ChannelKind;
  /** Case values (or other selectors) that send work along it, sorted; empty when none. */
  readonly labels: readonly string[];
}

export interface Topology {
  readonly nodes: readonly TopologyNode[];
  readonly edges: readonly TopologyEdge[];
}

export function serviceNodeId(source: Pick<EventSource, 'model' | 'service'>): string {
  return `${source.model}:${source.service}`;
}

export function channelNodeId(channel: string): string {
  return `channel:${channel}`;
}

/** Builds the topology of components; the order of nodes and edges is stable (sorted). */
export function buildTopology(components: readonly ComponentPorts[]): Topology {
  const nodes = new Map<string, TopologyNode>();
  /** channel → node id → labels that node sends along it. */
  const producers = new Map<string, Map<string, Set<string>>>();
  const consumers = new Map<string, Set<string>>();
  const kinds = new Map<string, ChannelKind>();

  for (const c of components) {
    const id = serviceNodeId(c.source);
    if (!nodes.has(id)) nodes.set(id, { id, type: 'service', name: c.source.service, model: c.source.model, transport: c.source.transport });
    for (const p of c.inputs) {
      if (p.kind && !kinds.has(p.name)) kinds.set(p.name, p.kind);
      let set = consumers.get(p.name);
      if (!set) consumers.set(p.name, (set = new Set()));
      set.add(id);
    }
    for (const p of c.outputs) {
      if (p.kind && !kinds.has(p.name)) kinds.set(p.name, p.kind);
      let byNode = producers.get(p.name);
      if (!byNode) producers.set(p.name, (byNode = new Map()));
      let labels = byNode.get(id);
      if (!labels) byNode.set(id, (labels = new Set()));
      if (p.label !== undefined) labels.add(p.label);
    }
  }

  const edges: TopologyEdge[] = [];
  const edge = (from: string, to: string, channel: string, labels: Iterable<string>) => {
    const kind = kinds.get(channel);
    edges.push({ id: `${from}->${to}@${channel}`, from, to, channel, ...(kind ? { kind } : {}), labels: [...labels].sort(compareLabels) });
  };
  const channelNode = (channel: string) => {
    const id = channelNodeId(channel);
    const kind = kinds.get(channel);
    if (!nodes.has(id)) nodes.set(id, { id, type: 'channel', name: channel, ...(kind ? { kind } : {}) });
    return id;
  };
  const channels = new Set([...producers.keys(), ...consumers.keys()]);
  for (const channel of channels) {
    const from = producers.get(channel);
    const to = consumers.get(channel);
    if (from && to) {
      for (const [p, labels] of from) for (const c of to) edge(p, c, channel, labels);
    } else if (from) {
      const sink = channelNode(channel);
      for (const [p, labels] of from) edge(p, sink, channel, labels);
    } else if (to) {
      const source = channelNode(channel);
      for (const c of to) edge(source, c, channel, []);
    }
  }
  return {
    nodes: [...nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    edges: edges.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
}

/** Numbers in numeric order, then the rest as text: "0, 1, 10" rather than "0, 1, 10" by chance. */
function compareLabels(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a !== '' && b !== '' && Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
