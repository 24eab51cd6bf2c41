// The side panels: details of the picked node or edge (figures and sparklines), the dead
// letters (queues per transport, then each letter with its reason, attempts and source,
// retry or discard one or all), and a message's journey (each hop with its time).

import type { Journey } from '../../src/observability/dashboard/journeys.js';
import type { DeadLetterView, Figures, Series, Snapshot } from '../../src/observability/dashboard/snapshot.js';
import { byId, getJson, html, ms, num, postJson, sparkPoints, svg } from './dom.js';
import type { Selection } from './topology-view.js';

// ---- details

export function renderDetails(snapshot: Snapshot, selection: Selection): void {
  const box = byId('details');
  if (!selection) {
    box.replaceChildren(totalsView(snapshot));
    return;
  }
  if (selection.kind === 'node') {
    const node = snapshot.nodes.find((n) => n.id === selection.id);
    if (!node) return box.replaceChildren();
    const title = html('h2', {}, node.name);
    const sub = html('p', {}, node.type === 'service' ? `${node.model} on ${node.transport}${node.state ? ` — ${node.state}` : ''}` : `channel${node.kind ? ` (${node.kind})` : ''}`);
    const parts: Node[] = [title, sub];
    if (node.error) parts.push(html('p', { class: 'error' }, node.error));
    if (node.figures) parts.push(figureGrid(node.figures));
    if (node.series) parts.push(seriesView(node.series));
    if (node.probe) parts.push(html('p', {}, probeText(node.probe)));
    box.replaceChildren(...parts);
    return;
  }
  const edge = snapshot.edges.find((e) => e.id === selection.id);
  if (!edge) return box.replaceChildren();
  const name = (id: string) => snapshot.nodes.find((n) => n.id === id)?.name ?? id;
  box.replaceChildren(
    html('h2', {}, `${name(edge.from)} → ${name(edge.to)}`),
    html('p', {}, `${edge.kind ?? 'channel'} ${edge.channel}${edge.labels.length ? ` — case ${edge.labels.join(', ')}` : ''}`),
    figureGrid(edge.figures),
    seriesView(edge.series),
    ...(edge.probe ? [html('p', {}, probeText(edge.probe))] : []),
  );
}

function totalsView(snapshot: Snapshot): Node {
  const services = snapshot.nodes.filter((n) => n.type === 'service').length;
  return html('div', {}, html('h2', {}, 'Whole system'), html('p', {}, `${services} services, ${snapshot.edges.length} edges; models: ${snapshot.models.join(', ') || '–'}`), figureGrid(snapshot.totals));
}

function figureGrid(f: Figures): Node {
  const cell = (label: string, value: string) => html('div', {}, html('b', {}, value), label);
  return html('div', { class: 'figure-grid' },
    cell('in per second', num(f.rateIn)), cell('out per second', num(f.rateOut)),
    cell('in flight', num(f.inFlight)), cell('p50 / p99', `${ms(f.p50Ms)} / ${ms(f.p99Ms)}`),
    cell('received', num(f.received)), cell('sent', num(f.sent)),
    cell('errors', num(f.errors)), cell('dead letters', num(f.deadLetters)));
}

function seriesView(s: Series): Node {
  const row = (label: string, values: readonly number[], cls: string) => {
    const chart = svg('svg', { width: 300, height: 34, viewBox: '0 0 300 34' });
    chart.append(svg('polyline', { class: `spark ${cls}`, points: sparkPoints(values, 300, 30), transform: 'translate(0,2)' }));
    return html('div', {}, html('div', { class: 'hint' }, `${label} (last ${values.length} points, max ${num(Math.max(...values))})`), chart);
  };
  return html('div', {}, row('in', s.in, 'in'), row('out', s.out, 'out'), row('errors', s.errors, 'errors'), row('dead letters', s.deadLetters, 'errors'));
}

function probeText(p: { depth?: number; consumers?: number; lag?: number; deadLetters?: number }): string {
  return [p.depth !== undefined ? `${num(p.depth)} waiting` : '', p.consumers !== undefined ? `${p.consumers} consumers` : '', p.lag !== undefined ? `lag ${num(p.lag)}` : '', p.deadLetters !== undefined ? `${num(p.deadLetters)} dead letters` : '']
    .filter(Boolean).join(' · ');
}

// ---- dead letters

interface QueueList {
  readonly transports: string[];
  readonly queues: Array<{ transport: string; queue: string; deadLetterQueue: string; count: number }>;
}

let openQueue: { transport: string; queue: string } | undefined;

export async function refreshDeadLetters(): Promise<number> {
  const list = await getJson<QueueList>('/api/dead-letters');
  const total = list.queues.reduce((n, q) => n + q.count, 0);
  byId('dead-count').textContent = total > 0 ? String(total) : '';
  const box = byId('dead-queues');
  if (list.transports.length === 0) {
    box.replaceChildren(html('p', { class: 'hint' }, 'No transport with dead letters was given to this dashboard.'));
    return total;
  }
  if (list.queues.length === 0) box.replaceChildren(html('p', { class: 'hint' }, 'No dead letters.'));
  else box.replaceChildren(...list.queues.map((q) => {
    const name = html('span', { class: 'name', 'data-queue': q.queue }, `${q.queue} (${q.transport})`);
    name.addEventListener('click', () => void openLetters(q.transport, q.queue));
    return html('div', { class: 'queue-row' }, name, html('b', { class: 'dead-count' }, String(q.count)),
      actionButton('retry all', q.transport, q.queue, { all: true }, 'retry'),
      actionButton('discard all', q.transport, q.queue, { all: true }, 'discard'));
  }));
  if (openQueue && !list.queues.some((q) => q.transport === openQueue!.transport && q.queue === openQueue!.queue)) {
    byId('dead-letters').replaceChildren();
    openQueue = undefined;
  } else if (openQueue) {
    await openLetters(openQueue.transport, openQueue.queue);
  }
  return total;
}

async function openLetters(transport: string, queue: string): Promise<void> {
  openQueue = { transport, queue };
  const { letters } = await getJson<{ letters: DeadLetterView[] }>(`/api/dead-letters/${encodeURIComponent(transport)}/${encodeURIComponent(queue)}?limit=50`);
  const rows = letters.map((l) => html('tr', { class: 'letter', 'data-id': l.id },
    html('td', {}, html('div', { class: 'reason' }, l.reason), html('code', {}, `${l.preview}${l.truncated ? '…' : ''}`), html('div', { class: 'hint' }, `${l.bytes} bytes${l.previewEncoding === 'hex' ? ' (hex)' : ''}`)),
    html('td', {}, l.attempts === undefined ? '–' : String(l.attempts)),
    html('td', {}, l.source),
    html('td', {}, actionButton('retry', transport, queue, { id: l.id }, 'retry'), actionButton('discard', transport, queue, { id: l.id }, 'discard'))));
  byId('dead-letters').replaceChildren(
    html('h3', {}, `${queue} — ${letters.length} shown`),
    html('table', {}, html('thead', {}, html('tr', {}, html('th', {}, 'reason / body'), html('th', {}, 'attempts'), html('th', {}, 'source'), html('th', {}, ''))), html('tbody', {}, ...rows)),
  );
}

function actionButton(label: string, transport: string, queue: string, payload: { id?: string; all?: boolean }, action: 'retry' | 'discard'): HTMLButtonElement {
  const button = html('button', { type: 'button', class: `action ${action}` }, label);
  button.addEventListener('click', async () => {
    if (payload.all && !confirm(`${action} every dead letter of ${queue}?`)) return;
    button.disabled = true;
    try {
      await postJson(`/api/dead-letters/${encodeURIComponent(transport)}/${encodeURIComponent(queue)}/${action}`, payload);
    } catch (err) {
      alert((err as Error).message);
    }
    await refreshDeadLetters();
  });
  return button;
}

// ---- journeys

export async function showJourney(id: string): Promise<void> {
  const box = byId('journey');
  try {
    const journey = await getJson<Journey>(`/api/journeys/${encodeURIComponent(id)}`);
    const first = Math.min(...journey.stages.flatMap((s) => s.hops.map((h) => h.at)));
    box.replaceChildren(...journey.stages.map((stage) => html('div', { class: 'stage' },
      html('h3', {}, `id ${stage.id}${stage.id === id ? ' (picked)' : ''}`),
      html('table', {}, html('tbody', {}, ...stage.hops.map((h) => html('tr', { class: `hop ${h.step}` },
        html('td', {}, `+${h.at - first} ms`),
        html('td', {}, h.service),
        html('td', {}, h.step),
        html('td', {}, `${h.channel}${h.attempt && h.attempt > 1 ? ` (try ${h.attempt})` : ''}`),
        html('td', {}, h.durationMs !== undefined ? ms(h.durationMs) : ''),
        html('td', { class: h.error ? 'error' : '' }, h.error ?? (h.produced ? `→ ${h.produced.map((p) => `${p.id} on ${p.output}${p.label ? ` [${p.label}]` : ''}`).join(', ')}` : '')))))))));
  } catch (err) {
    box.replaceChildren(html('p', { class: 'error' }, (err as Error).message));
  }
}

export async function refreshRecentIds(pick: (id: string) => void): Promise<void> {
  const { recent } = await getJson<{ recent: string[] }>('/api/journeys');
  byId('recent-ids').replaceChildren(...recent.map((id) => {
    const a = html('a', { 'data-id': id }, id);
    a.addEventListener('click', () => pick(id));
    return a;
  }));
}
