// The topology drawn as SVG: laid out (dagre, the same layout as `switchyard topology`)
// only when nodes or edges change; on every other snapshot only the figures, sparklines
// and edge colours are updated in place, so the picture stays still while numbers move.
// Wheel zooms, drag pans, "fit" brings everything back into view.

import { layoutToFit, edgeLabelText, type Layout, type LayoutSizes } from '../../src/observability/dashboard/layout.js';
import { CHANNEL_COLOR, MODEL_COLORS } from '../../src/observability/dashboard/model-colors.js';
import type { EdgeSnapshot, NodeSnapshot, Snapshot } from '../../src/observability/dashboard/snapshot.js';
import { ms, num, sparkPoints, svg } from './dom.js';

const SERVICE_W = 210;
const SERVICE_H = 66;
const SPARK_W = 80;
const SPARK_H = 18;

const sizes: LayoutSizes = {
  node: (n) => (n.type === 'service' ? { width: Math.max(SERVICE_W, 7.5 * n.name.length + SPARK_W + 30), height: SERVICE_H } : { width: Math.max(80, 6.8 * n.name.length + 22), height: 30 }),
  edgeLabel: (e) => ({ width: 6.2 * edgeLabelText(e).length + 12, height: 26 }),
};

export type Selection = { kind: 'node'; id: string } | { kind: 'edge'; id: string } | undefined;

export class TopologyView {
  #version = -1;
  #layout: Layout | undefined;
  readonly #nodes = new Map<string, SVGGElement>();
  readonly #edges = new Map<string, SVGGElement>();
  #view = { x: 0, y: 0, w: 100, h: 100 };
  #selected: Selection;

  constructor(private readonly root: SVGSVGElement, private readonly onSelect: (s: Selection) => void) {
    this.#panAndZoom();
  }

  get selection(): Selection {
    return this.#selected;
  }

  update(snapshot: Snapshot): void {
    if (snapshot.topologyVersion !== this.#version) {
      this.#draw(snapshot);
      this.#version = snapshot.topologyVersion;
    }
    for (const node of snapshot.nodes) this.#updateNode(node);
    for (const edge of snapshot.edges) this.#updateEdge(edge);
  }

  fit(): void {
    if (!this.#layout) return;
    const pad = 20;
    this.#setView({ x: -pad, y: -pad, w: Math.max(200, this.#layout.width + 2 * pad), h: Math.max(150, this.#layout.height + 2 * pad) });
  }

  #draw(snapshot: Snapshot): void {
    const topology = { nodes: snapshot.nodes, edges: snapshot.edges };
    const box = this.root.getBoundingClientRect();
    this.#layout = layoutToFit(topology, sizes, box.width || 1000, box.height || 700);
    this.root.replaceChildren();
    this.#nodes.clear();
    this.#edges.clear();
    const defs = svg('defs');
    const marker = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#64748b' }));
    defs.append(marker);
    const edgesLayer = svg('g', { class: 'edges' });
    const nodesLayer = svg('g', { class: 'nodes' });
    this.root.append(defs, edgesLayer, nodesLayer);
    for (const edge of snapshot.edges) {
      const placed = this.#layout.edges.get(edge.id);
      if (!placed) continue;
      const d = placed.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
      const g = svg('g', { class: 'edge', 'data-edge-id': edge.id, 'data-channel': edge.channel });
      const text = edgeLabelText(edge);
      const tw = 6.2 * text.length + 12;
      g.append(
        svg('path', { d, 'marker-end': 'url(#arrow)' }),
        svg('path', { d, class: 'hit' }),
        svg('rect', { class: 'label-bg', x: placed.label.x - tw / 2, y: placed.label.y - 12, width: tw, height: 25, rx: 3 }),
        svg('text', { class: 'label', x: placed.label.x, y: placed.label.y - 1, 'text-anchor': 'middle' }, text),
        svg('text', { class: 'rate', x: placed.label.x, y: placed.label.y + 10, 'text-anchor': 'middle' }, ''),
      );
      g.addEventListener('click', (ev) => {
        ev.stopPropagation();
        this.#select({ kind: 'edge', id: edge.id });
      });
      edgesLayer.append(g);
      this.#edges.set(edge.id, g);
    }
    for (const node of snapshot.nodes) {
      const box = this.#layout.nodes.get(node.id);
      if (!box) continue;
      const colors = node.type === 'service' && node.model ? MODEL_COLORS[node.model] : CHANNEL_COLOR;
      const g = svg('g', { class: `node ${node.type}`, 'data-node-id': node.id, transform: `translate(${box.x.toFixed(1)},${box.y.toFixed(1)})` });
      if (node.type === 'service') {
        g.append(
          svg('rect', { class: 'box', width: box.width, height: box.height, rx: 8, fill: colors.fill, stroke: colors.stroke }),
          svg('text', { class: 'name', x: 10, y: 17 }, node.name),
          svg('text', { class: 'figures', x: 10, y: 33 }, `${node.model} · ${node.transport ?? ''}`),
          svg('text', { class: 'figures rates', x: 10, y: 47 }, ''),
          svg('text', { class: 'figures latency', x: 10, y: 60 }, ''),
          // The sparkline sits top right, beside the name and the model line, clear of the figures.
          svg('polyline', { class: 'spark in', transform: `translate(${box.width - SPARK_W - 8},6)` }),
          svg('polyline', { class: 'spark errors', transform: `translate(${box.width - SPARK_W - 8},6)` }),
        );
      } else {
        g.append(
          svg('rect', { class: 'box', width: box.width, height: box.height, rx: box.height / 2, fill: colors.fill, stroke: colors.stroke, 'stroke-dasharray': '4 2' }),
          svg('text', { class: 'name', x: box.width / 2, y: 13, 'text-anchor': 'middle' }, node.name),
          svg('text', { class: 'figures probe', x: box.width / 2, y: 25, 'text-anchor': 'middle' }, ''),
        );
      }
      g.addEventListener('click', (ev) => {
        ev.stopPropagation();
        this.#select({ kind: 'node', id: node.id });
      });
      nodesLayer.append(g);
      this.#nodes.set(node.id, g);
    }
    if (this.#version === -1 || snapshot.nodes.length > 0) this.fit();
    this.#markSelected();
  }

  #updateNode(node: NodeSnapshot): void {
    const g = this.#nodes.get(node.id);
    if (!g) return;
    g.classList.toggle('failed', node.state === 'failed');
    if (node.type === 'channel') {
      const p = node.probe;
      const text = p ? [p.depth !== undefined ? `${num(p.depth)} waiting` : '', p.deadLetters ? `${num(p.deadLetters)} dead` : ''].filter(Boolean).join(' · ') : '';
      g.querySelector('.probe')!.textContent = text;
      return;
    }
    const f = node.figures;
    if (!f) return;
    g.dataset.rateIn = String(f.rateIn);
    g.dataset.received = String(f.received);
    g.querySelector('.rates')!.textContent = `in ${num(f.rateIn)}/s · out ${num(f.rateOut)}/s · ${num(f.inFlight)} busy`;
    const bad = [f.errors ? `${num(f.errors)} err` : '', f.deadLetters ? `${num(f.deadLetters)} dead` : ''].filter(Boolean).join(' · ');
    g.querySelector('.latency')!.textContent = `p50 ${ms(f.p50Ms)} · p99 ${ms(f.p99Ms)}${bad ? ` · ${bad}` : ''}`;
    if (node.series) {
      g.querySelector('.spark.in')!.setAttribute('points', sparkPoints(node.series.in, SPARK_W, SPARK_H));
      // Errors drawn only when there were some: a flat red line would hide the blue one.
      const errors = node.series.errors.some((v) => v > 0) ? sparkPoints(node.series.errors, SPARK_W, SPARK_H) : '';
      g.querySelector('.spark.errors')!.setAttribute('points', errors);
    }
  }

  #updateEdge(edge: EdgeSnapshot): void {
    const g = this.#edges.get(edge.id);
    if (!g) return;
    const f = edge.figures;
    const rate = Math.max(f.rateIn, f.rateOut);
    g.dataset.rate = String(rate);
    g.classList.toggle('busy', rate > 0);
    g.classList.toggle('errors', f.errors > 0 && edge.series.errors.some((n) => n > 0));
    const depth = edge.probe?.depth;
    g.querySelector('.rate')!.textContent = `${num(rate)}/s${depth ? ` · ${num(depth)} waiting` : ''}${f.deadLetters ? ` · ${num(f.deadLetters)} dead` : ''}`;
  }

  #select(s: Selection): void {
    this.#selected = s;
    this.#markSelected();
    this.onSelect(s);
  }

  #markSelected(): void {
    for (const [id, g] of this.#nodes) g.classList.toggle('selected', this.#selected?.kind === 'node' && this.#selected.id === id);
    for (const [id, g] of this.#edges) g.classList.toggle('selected', this.#selected?.kind === 'edge' && this.#selected.id === id);
  }

  #setView(v: { x: number; y: number; w: number; h: number }): void {
    this.#view = v;
    this.root.setAttribute('viewBox', `${v.x} ${v.y} ${v.w} ${v.h}`);
  }

  #panAndZoom(): void {
    let drag: { x: number; y: number; view: { x: number; y: number; w: number; h: number } } | undefined;
    this.root.addEventListener('click', () => this.#select(undefined));
    this.root.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      const rect = this.root.getBoundingClientRect();
      const scale = ev.deltaY > 0 ? 1.15 : 1 / 1.15;
      const v = this.#view;
      // Keep the point under the pointer still (the view keeps the element's aspect via preserveAspectRatio).
      const fx = (ev.clientX - rect.left) / rect.width;
      const fy = (ev.clientY - rect.top) / rect.height;
      const w = v.w * scale;
      const h = v.h * scale;
      this.#setView({ x: v.x + (v.w - w) * fx, y: v.y + (v.h - h) * fy, w, h });
    }, { passive: false });
    this.root.addEventListener('pointerdown', (ev) => {
      drag = { x: ev.clientX, y: ev.clientY, view: this.#view };
    });
    window.addEventListener('pointerup', () => (drag = undefined));
    window.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      const rect = this.root.getBoundingClientRect();
      const k = Math.max(drag.view.w / rect.width, drag.view.h / rect.height);
      this.#setView({ ...drag.view, x: drag.view.x - (ev.clientX - drag.x) * k, y: drag.view.y - (ev.clientY - drag.y) * k });
    });
  }
}
