// Positions for a topology, by @dagrejs/dagre (layered layout: work flows left to right,
// edges cross as little as the library can manage). One layout for the live page and for
// `switchyard topology --format svg`, so both look the same. Pure computation, no DOM.

import dagre from '@dagrejs/dagre';
import type { Topology, TopologyEdge, TopologyNode } from './topology.js';

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Layout {
  readonly width: number;
  readonly height: number;
  /** Node boxes by node id; x, y are the top-left corner. */
  readonly nodes: ReadonlyMap<string, Box>;
  /** Edge polylines by edge id, and where each edge's label goes (its centre). */
  readonly edges: ReadonlyMap<string, { readonly points: ReadonlyArray<{ x: number; y: number }>; readonly label: { x: number; y: number } }>;
}

export interface LayoutSizes {
  node(node: TopologyNode): { width: number; height: number };
  edgeLabel(edge: TopologyEdge): { width: number; height: number };
}

/** Sizes for plain text at ~7 px per character: the CLI's pictures. */
export const textSizes: LayoutSizes = {
  node: (n) => (n.type === 'service' ? { width: Math.max(120, 7.2 * n.name.length + 28), height: 46 } : { width: Math.max(70, 6.6 * n.name.length + 20), height: 26 }),
  edgeLabel: (e) => ({ width: 6.2 * edgeLabelText(e).length + 8, height: 14 }),
};

/** What an edge is labelled with: the channel, and the case values that select it. */
export function edgeLabelText(edge: TopologyEdge): string {
  return edge.labels.length > 0 ? `${edge.channel} [${edge.labels.join(', ')}]` : edge.channel;
}

/** Left to right (work flows across) or top to bottom (a long chain on a narrow screen). */
export type Direction = 'LR' | 'TB';

export function layoutTopology(topology: Topology, sizes: LayoutSizes = textSizes, margin = 16, direction: Direction = 'LR'): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  // Many services: tighter ranks, so 50 services still fit a screen when zoomed to fit.
  const dense = topology.nodes.length > 30;
  g.setGraph({ rankdir: direction, nodesep: dense ? 14 : 26, ranksep: dense ? 60 : 80, edgesep: 8, marginx: margin, marginy: margin });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of topology.nodes) g.setNode(node.id, { ...sizes.node(node) });
  for (const edge of topology.edges) {
    const label = sizes.edgeLabel(edge);
    g.setEdge(edge.from, edge.to, { width: label.width, height: label.height, labelpos: 'c' }, edge.id);
  }
  dagre.layout(g);
  const nodes = new Map<string, Box>();
  for (const node of topology.nodes) {
    const n = g.node(node.id) as { x: number; y: number; width: number; height: number };
    nodes.set(node.id, { x: n.x - n.width / 2, y: n.y - n.height / 2, width: n.width, height: n.height });
  }
  const edges = new Map<string, { points: Array<{ x: number; y: number }>; label: { x: number; y: number } }>();
  for (const edge of topology.edges) {
    const e = g.edge(edge.from, edge.to, edge.id) as { points: Array<{ x: number; y: number }>; x?: number; y?: number };
    const mid = e.points[Math.floor(e.points.length / 2)] ?? { x: 0, y: 0 };
    edges.set(edge.id, { points: e.points.map((p) => ({ x: p.x, y: p.y })), label: { x: e.x ?? mid.x, y: e.y ?? mid.y } });
  }
  const graph = g.graph() as { width?: number; height?: number };
  return { width: graph.width ?? 0, height: graph.height ?? 0, nodes, edges };
}

/**
 * The layout that shows the most at the size of a `width` × `height` view: both directions
 * are laid out, and the one that needs less shrinking to fit wins (a long pipeline reads
 * better top to bottom on a tall screen, a wide fan-out left to right).
 */
export function layoutToFit(topology: Topology, sizes: LayoutSizes, width: number, height: number): Layout {
  const lr = layoutTopology(topology, sizes, 16, 'LR');
  if (topology.nodes.length < 3) return lr;
  const tb = layoutTopology(topology, sizes, 16, 'TB');
  const scale = (l: Layout) => Math.min(width / Math.max(1, l.width), height / Math.max(1, l.height));
  return scale(tb) > scale(lr) * 1.15 ? tb : lr;
}
