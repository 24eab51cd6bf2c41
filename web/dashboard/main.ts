// The dashboard page: a snapshot at once, then the live stream (SSE, reconnecting by
// itself); the picture, the header figures and the open panel follow every snapshot.

import { MODEL_COLORS } from '../../src/observability/dashboard/model-colors.js';
import type { Snapshot } from '../../src/observability/dashboard/snapshot.js';
import { byId, getJson, html, num } from './dom.js';
import { refreshDeadLetters, refreshRecentIds, renderDetails, showJourney } from './panels.js';
import { TopologyView, type Selection } from './topology-view.js';

let latest: Snapshot | undefined;
let tab = 'details';

const view = new TopologyView(byId<SVGSVGElement>('topology') as unknown as SVGSVGElement, (s: Selection) => {
  if (latest) renderDetails(latest, s);
  showTab('details');
});

function apply(snapshot: Snapshot): void {
  latest = snapshot;
  view.update(snapshot);
  byId('empty').hidden = snapshot.nodes.length > 0;
  const t = snapshot.totals;
  byId('totals').textContent = `${snapshot.nodes.filter((n) => n.type === 'service').length} services · in ${num(t.rateIn)}/s · out ${num(t.rateOut)}/s · ${num(t.inFlight)} in flight · ${num(t.errors)} errors · ${num(t.deadLetters)} dead letters`;
  if (tab === 'details') renderDetails(snapshot, view.selection);
  document.body.dataset.topologyVersion = String(snapshot.topologyVersion);
  document.body.dataset.at = String(snapshot.at);
}

function showTab(name: string): void {
  tab = name;
  for (const b of document.querySelectorAll<HTMLButtonElement>('nav button')) b.classList.toggle('active', b.dataset.tab === name);
  for (const t of document.querySelectorAll<HTMLElement>('.tab')) t.hidden = t.id !== `tab-${name}`;
  if (name === 'dead') void refreshDeadLetters().catch(() => undefined);
  if (name === 'journey') void refreshRecentIds(pickJourney).catch(() => undefined);
}

function pickJourney(id: string): void {
  byId<HTMLInputElement>('journey-id').value = id;
  void showJourney(id);
}

async function health(): Promise<void> {
  try {
    const h = await getJson<{ status: string }>('/api/health');
    const badge = byId('health');
    badge.textContent = h.status;
    badge.className = `badge ${h.status}`;
  } catch {
    // the connection badge says it
  }
}

function connect(): void {
  const badge = byId('connection');
  const source = new EventSource('/api/stream');
  source.addEventListener('open', () => {
    badge.textContent = 'live';
    badge.className = 'badge ok';
  });
  source.addEventListener('snapshot', (ev) => apply(JSON.parse((ev as MessageEvent<string>).data) as Snapshot));
  source.addEventListener('error', () => {
    badge.textContent = 'reconnecting';
    badge.className = 'badge starting';
  });
}

function legend(): void {
  byId('legend').replaceChildren(...Object.entries(MODEL_COLORS).map(([model, c]) => {
    const swatch = html('i');
    swatch.style.background = c.fill;
    swatch.style.borderColor = c.stroke;
    return html('span', {}, swatch, model);
  }));
}

for (const b of document.querySelectorAll<HTMLButtonElement>('nav button')) b.addEventListener('click', () => showTab(b.dataset.tab ?? 'details'));
byId('fit').addEventListener('click', () => view.fit());
byId<HTMLFormElement>('journey-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const id = byId<HTMLInputElement>('journey-id').value.trim();
  if (id) void showJourney(id);
});
legend();
void health();
setInterval(() => void health(), 5000);
// The dead-letter count in the tab title stays current; the open list refreshes with it.
setInterval(() => void refreshDeadLetters().catch(() => undefined), 2000);
void refreshDeadLetters().catch(() => undefined);
getJson<Snapshot>('/api/snapshot').then(apply, () => undefined).finally(connect);
