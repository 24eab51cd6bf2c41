// The dashboard server: the page (built into dist/ at package time, served from memory),
// a JSON snapshot of the system, a live stream of snapshots (SSE), journeys, health, and
// the dead-letter panel's reads and actions. It watches an observer stream, so it shows
// whatever runs in the process, of any model.
//
// Loopback by default. The page's actions change things (retry, discard), so requests are
// checked: the Host header must name this server (a DNS-rebinding page cannot reach it),
// and an action must be a JSON POST from this origin (no cross-site form or fetch can make
// one). fastify is loaded only when a dashboard starts.

import type { AddressInfo } from 'node:net';
import { errors } from '../../errors.js';
import type { Observer } from '../../observability/observer.js';
import type { Probe } from '../../observability/dashboard/probe.js';
import { SystemModel, type SystemModelOptions } from '../../observability/dashboard/system-model.js';
import type { ComponentPorts } from '../../observability/dashboard/topology.js';
import type { DeadLetters } from '../../transports/dead-letters.js';
import type { Health } from '../runtime.js';
import { viewOf } from './dead-letter-view.js';
import { LiveStream } from './live-stream.js';
import { loadPageAssets } from './page-assets.js';

export interface DashboardOptions {
  readonly observer: Observer;
  /** The runtime's health (shown on the page and at /api/health). */
  readonly health?: () => Health;
  /** Default 0: a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. Anything else exposes the page and its retry/discard actions to that network. */
  readonly host?: string;
  /** Components known from configuration (a system map), drawn before they run. */
  readonly declared?: readonly ComponentPorts[];
  /** Where dead letters are kept, one per transport. */
  readonly deadLetters?: readonly DeadLetters[];
  /** Queue depth, consumers, lag, dead-letter counts. */
  readonly probes?: readonly Probe[];
  readonly model?: SystemModelOptions;
  /** Live-stream clients at once. Default 16. */
  readonly maxClients?: number;
  /** A live client with more than this unsent is dropped. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /** How often a snapshot is pushed. Default 1000 ms. */
  readonly pushIntervalMs?: number;
  /** How often probes are asked (while someone watches). Default 2000 ms. */
  readonly probeIntervalMs?: number;
}

export interface Dashboard {
  readonly url: string;
  readonly model: SystemModel;
  readonly stream: LiveStream;
  close(): Promise<void>;
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  const model = new SystemModel(options.model);
  if (options.declared) model.declare(options.declared);
  const detach = model.attach(options.observer);
  // Components that reported "ready" before the dashboard listened are known from health;
  // their edges appear as work flows (make the dashboard before the runtime starts to have them at once).
  for (const c of options.health?.().components ?? []) model.setState(c, c.state, c.error);
  const assets = await loadPageAssets();
  const stream = new LiveStream({ maxClients: options.maxClients ?? 16, maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024 });
  const probes = options.probes ?? [];
  const deadLetters = new Map((options.deadLetters ?? []).map((d) => [d.transport, d]));

  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, return503OnClosing: true, exposeHeadRoutes: false });
  let origin = '';
  let allowedHosts = new Set<string>();
  // Bound to a network address on purpose: any name the user reaches it by is accepted.
  const anyHost = !['127.0.0.1', '::1', 'localhost'].includes(host);

  app.addHook('onRequest', async (req, reply) => {
    if (!anyHost && !allowedHosts.has(req.headers.host ?? '')) {
      return reply.code(421).send({ error: new errors.SY_ERR_DASHBOARD_REQUEST(`Host ${JSON.stringify(req.headers.host ?? '')} is not this dashboard; open it at ${origin}`).message });
    }
    if (req.method !== 'GET') {
      const sameOrigin = req.headers.origin === undefined || req.headers.origin === `http://${req.headers.host}`;
      const json = /^application\/json\b/.test(req.headers['content-type'] ?? '');
      if (!sameOrigin || !json) return reply.code(403).send({ error: new errors.SY_ERR_DASHBOARD_REQUEST('actions are JSON POSTs from the dashboard page itself').message });
    }
    return undefined;
  });

  for (const [path, asset] of assets) {
    app.get(path, async (_req, reply) => reply
      .header('content-type', asset.contentType)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
      .header('x-content-type-options', 'nosniff')
      .send(asset.body));
  }

  const snapshotJson = () => JSON.stringify(model.snapshot());
  app.get('/api/snapshot', async (_req, reply) => {
    if (probes.length > 0) await model.pollProbes(probes);
    return reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-store').send(snapshotJson());
  });
  app.get('/api/health', async () => options.health?.() ?? { status: 'ok', components: [] });
  app.get('/api/journeys', async () => ({ recent: model.recentIds(50) }));
  app.get<{ Params: { id: string } }>('/api/journeys/:id', async (req, reply) => {
    const journey = model.journey(req.params.id);
    return journey ?? reply.code(404).send({ error: `no recent journey of ${JSON.stringify(req.params.id)}: only the most recent ids are kept (${options.model?.journeys?.maxIds ?? 2000})` });
  });

  app.get('/api/stream', async (_req, reply) => {
    if (stream.full) {
      return reply.code(503).send({ error: new errors.SY_ERR_LIMIT_EXCEEDED('a live view', `${options.maxClients ?? 16} open at once`, 'maxClients of startDashboard').message });
    }
    reply.hijack();
    stream.add(reply.raw);
    reply.raw.write(`event: snapshot\ndata: ${snapshotJson()}\n\n`);
    return undefined;
  });

  // ---- dead letters
  const store = (transport: string): DeadLetters => {
    const d = deadLetters.get(transport);
    if (!d) throw new errors.SY_ERR_DEAD_LETTERS_UNSUPPORTED(transport);
    return d;
  };
  app.get('/api/dead-letters', async () => {
    const lists = await Promise.all([...deadLetters.values()].map(async (d) => (await d.queues()).map((q) => ({ transport: d.transport, ...q }))));
    return { transports: [...deadLetters.keys()], queues: lists.flat() };
  });
  app.get<{ Params: { transport: string; queue: string }; Querystring: { limit?: string } }>('/api/dead-letters/:transport/:queue', async (req) => {
    const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
    const letters = await store(req.params.transport).peek(req.params.queue, { limit });
    return { transport: req.params.transport, queue: req.params.queue, letters: letters.map(viewOf) };
  });
  const action = (name: 'retry' | 'discard') =>
    app.post<{ Params: { transport: string; queue: string }; Body: { id?: unknown; all?: unknown } }>(`/api/dead-letters/:transport/:queue/${name}`, async (req, reply) => {
      const d = store(req.params.transport);
      const body = req.body ?? {};
      if (body.all === true) {
        const n = name === 'retry' ? await d.retryAll(req.params.queue) : await d.discardAll(req.params.queue);
        return { [name === 'retry' ? 'retried' : 'discarded']: n };
      }
      if (typeof body.id !== 'string' || body.id === '') return reply.code(400).send({ error: new errors.SY_ERR_DASHBOARD_REQUEST('give {"id": "..."} of one dead letter, or {"all": true}').message });
      const done = name === 'retry' ? await d.retry(req.params.queue, body.id) : await d.discard(req.params.queue, body.id);
      if (!done) return reply.code(404).send({ error: `dead letter ${body.id} is no longer in ${req.params.queue}'s dead-letter queue (retried or discarded meanwhile?)` });
      return { [name === 'retry' ? 'retried' : 'discarded']: 1 };
    });
  action('retry');
  action('discard');

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : err.code?.startsWith('SY_ERR_') && /USAGE|UNSUPPORTED|REQUEST/.test(err.code) ? 400 : 502;
    void reply.code(status).send({ error: err.message });
  });

  await app.listen({ port: options.port ?? 0, host });
  const address = app.server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  origin = `http://${shownHost}:${address.port}`;
  allowedHosts = new Set([`${shownHost}:${address.port}`, `localhost:${address.port}`, `127.0.0.1:${address.port}`, `[::1]:${address.port}`]);

  // Snapshots are made only while someone watches the live stream.
  const push = setInterval(() => {
    if (stream.size > 0) stream.send('snapshot', snapshotJson());
  }, options.pushIntervalMs ?? 1000);
  const probe = setInterval(() => {
    if (stream.size > 0 && probes.length > 0) void model.pollProbes(probes);
  }, options.probeIntervalMs ?? 2000);
  push.unref();
  probe.unref();

  return {
    url: origin,
    model,
    stream,
    close: async () => {
      clearInterval(push);
      clearInterval(probe);
      detach();
      stream.closeAll();
      await app.close();
    },
  };
}
