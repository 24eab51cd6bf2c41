// The topology as a picture without a server (`switchyard topology --format svg|mermaid|dot`),
// for docs and reviews: the same nodes, edges, case labels and model colours as the page.

import type { Layout } from './layout.js';
import { edgeLabelText } from './layout.js';
import { CHANNEL_COLOR, MODEL_COLORS } from './model-colors.js';
import type { Topology, TopologyNode } from './topology.js';

export const TOPOLOGY_FORMATS = ['svg', 'mermaid', 'dot'] as const;
export type TopologyFormat = (typeof TOPOLOGY_FORMATS)[number];

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function colorsOf(node: TopologyNode) {
  return node.type === 'service' && node.model ? MODEL_COLORS[node.model] : CHANNEL_COLOR;
}

/** A standalone SVG document of a laid-out topology (layout.ts). */
export function renderSvg(topology: Topology, layout: Layout): string {
  const out: string[] = [];
  const w = Math.ceil(layout.width);
  const h = Math.ceil(layout.height);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#475569"/></marker></defs>');
  out.push(`<rect width="${w}" height="${h}" fill="#ffffff"/>`);
  for (const edge of topology.edges) {
    const e = layout.edges.get(edge.id);
    if (!e) continue;
    const d = e.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    out.push(`<path class="edge" data-id="${xml(edge.id)}" d="${d}" fill="none" stroke="#475569" stroke-width="1.3" marker-end="url(#arrow)"/>`);
    const text = edgeLabelText(edge);
    const tw = 6.2 * text.length + 8;
    out.push(`<rect x="${(e.label.x - tw / 2).toFixed(1)}" y="${(e.label.y - 8).toFixed(1)}" width="${tw.toFixed(1)}" height="15" rx="3" fill="#ffffff" fill-opacity="0.9"/>`);
    out.push(`<text x="${e.label.x.toFixed(1)}" y="${(e.label.y + 3.5).toFixed(1)}" text-anchor="middle" font-size="11" fill="#334155">${xml(text)}</text>`);
  }
  for (const node of topology.nodes) {
    const b = layout.nodes.get(node.id);
    if (!b) continue;
    const c = colorsOf(node);
    const cx = b.x + b.width / 2;
    if (node.type === 'service') {
      out.push(`<g class="node" data-id="${xml(node.id)}"><rect x="${b.x.toFixed(1)}" y="${b.y.toFixed(1)}" width="${b.width.toFixed(1)}" height="${b.height.toFixed(1)}" rx="8" fill="${c.fill}" stroke="${c.stroke}" stroke-width="1.5"/>`);
      out.push(`<text x="${cx.toFixed(1)}" y="${(b.y + 19).toFixed(1)}" text-anchor="middle" font-weight="bold" fill="#0f172a">${xml(node.name)}</text>`);
      out.push(`<text x="${cx.toFixed(1)}" y="${(b.y + 35).toFixed(1)}" text-anchor="middle" font-size="10" fill="#475569">${xml([node.model, node.transport].filter(Boolean).join(' · '))}</text></g>`);
    } else {
      out.push(`<g class="node channel" data-id="${xml(node.id)}"><rect x="${b.x.toFixed(1)}" y="${b.y.toFixed(1)}" width="${b.width.toFixed(1)}" height="${b.height.toFixed(1)}" rx="${(b.height / 2).toFixed(1)}" fill="${c.fill}" stroke="${c.stroke}" stroke-dasharray="4 2"/>`);
      out.push(`<text x="${cx.toFixed(1)}" y="${(b.y + b.height / 2 + 4).toFixed(1)}" text-anchor="middle" font-size="11" fill="#334155">${xml(node.name)}</text></g>`);
    }
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Mermaid flowchart text (GitHub and many doc tools draw it). */
export function renderMermaid(topology: Topology): string {
  const ids = shortIds(topology);
  const q = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;
  const lines = ['flowchart LR'];
  for (const node of topology.nodes) {
    const id = ids.get(node.id)!;
    lines.push(node.type === 'service' ? `  ${id}[${q(`${node.name}<br/><small>${node.model ?? ''}</small>`)}]` : `  ${id}([${q(node.name)}])`);
  }
  for (const edge of topology.edges) lines.push(`  ${ids.get(edge.from)} -- ${q(edgeLabelText(edge))} --> ${ids.get(edge.to)}`);
  for (const node of topology.nodes) {
    const c = colorsOf(node);
    lines.push(`  style ${ids.get(node.id)} fill:${c.fill},stroke:${c.stroke}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Graphviz DOT (`dot -Tpng`). */
export function renderDot(topology: Topology): string {
  const esc = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const q = (text: string) => `"${esc(text)}"`;
  const lines = ['digraph switchyard {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=10, color="#475569"];'];
  for (const node of topology.nodes) {
    const c = colorsOf(node);
    const shape = node.type === 'service' ? 'box, style="rounded,filled"' : 'box, style="rounded,dashed,filled"';
    const label = node.type === 'service' ? `"${esc(node.name)}\\n${esc(node.model ?? '')}"` : q(node.name);
    lines.push(`  ${q(node.id)} [label=${label}, shape=${shape}, fillcolor="${c.fill}", color="${c.stroke}"];`);
  }
  for (const edge of topology.edges) lines.push(`  ${q(edge.from)} -> ${q(edge.to)} [label=${q(edgeLabelText(edge))}];`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** n0, n1, …: Mermaid ids cannot hold every character a name may. */
function shortIds(topology: Topology): Map<string, string> {
  return new Map(topology.nodes.map((n, i) => [n.id, `n${i}`]));
}
