// A small Core engine for the tests, over real HTTP on 127.0.0.1: it takes registrations
// the way core-engine does (409 for a known slug; otherwise it calls GET {url}/status on
// the service and stores it only if that answers 200), answers GET /services/slug/{slug},
// PATCH /services/{id}, and records every PATCH /tasks/{id} (the task callbacks).
// `stop()` takes it down like a crash; `restart()` brings it back on the same port.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  readonly rawBody: string;
}

export interface EngineStandIn {
  readonly url: string;
  readonly port: number;
  readonly requests: Recorded[];
  /** Registered services by slug. */
  readonly services: Map<string, { id: string; body: Record<string, unknown> }>;
  /** Callback bodies by task id, in arrival order. */
  readonly callbacks: Map<string, unknown[]>;
  /** Resolves with the first callback body for the task (waits for it, bounded by timeoutMs). */
  callback(taskId: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves once a service with this slug is registered (created or updated). */
  registered(slug: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Answer PATCH /tasks/* with this status instead of 200 (e.g. 500 to test retries). */
  callbackStatus: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function waitFor<T>(check: () => T | undefined, what: string, timeoutMs: number, wake: Set<() => void>): Promise<T> {
  return new Promise((resolve, reject) => {
    const now = check();
    if (now !== undefined) return resolve(now);
    const timer = setTimeout(() => {
      wake.delete(poll);
      reject(new Error(`engine stand-in: ${what} did not arrive within ${timeoutMs} ms`));
    }, timeoutMs);
    function poll() {
      const v = check();
      if (v === undefined) return;
      clearTimeout(timer);
      wake.delete(poll);
      resolve(v);
    }
    wake.add(poll);
  });
}

export async function startEngine(options: { port?: number; started?: boolean } = {}): Promise<EngineStandIn> {
  const requests: Recorded[] = [];
  const services = new Map<string, { id: string; body: Record<string, unknown> }>();
  const callbacks = new Map<string, unknown[]>();
  const wake = new Set<() => void>();
  const notify = () => [...wake].forEach((f) => f());
  let port = options.port ?? 0;
  let current: Server | undefined;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const rawBody = await readBody(req);
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push({ method: req.method ?? '', path, body, rawBody });
    const m = (re: RegExp) => re.exec(path);
    let match: RegExpExecArray | null;
    if (req.method === 'POST' && path === '/services') {
      const b = body as Record<string, unknown>;
      if (services.has(String(b.slug))) return send(res, 409, { detail: `Service with slug '${String(b.slug)}' already exists.` });
      try {
        const r = await fetch(`${String(b.url).replace(/\/$/, '')}/status`, { signal: AbortSignal.timeout(5000) });
        await r.text();
        if (r.status !== 200) return send(res, 500, { detail: 'service unavailable' });
      } catch {
        return send(res, 503, { detail: 'Service not reachable' });
      }
      const id = randomUUID();
      services.set(String(b.slug), { id, body: b });
      notify();
      return send(res, 200, { ...b, id });
    }
    if (req.method === 'GET' && (match = m(/^\/services\/slug\/([^/]+)$/))) {
      const s = services.get(decodeURIComponent(match[1]!));
      return s ? send(res, 200, { ...s.body, id: s.id }) : send(res, 404, { detail: 'Service Not Found' });
    }
    if (req.method === 'PATCH' && (match = m(/^\/services\/([^/]+)$/))) {
      const entry = [...services.values()].find((s) => s.id === match![1]);
      if (!entry) return send(res, 404, { detail: 'Service Not Found' });
      entry.body = { ...(body as Record<string, unknown>), updated: true };
      notify();
      return send(res, 200, { ...entry.body, id: entry.id });
    }
    if (req.method === 'PATCH' && (match = m(/^\/tasks\/([^/]+)$/))) {
      if (engine.callbackStatus !== 200) return send(res, engine.callbackStatus, { detail: 'not now' });
      const list = callbacks.get(match[1]!) ?? [];
      list.push(body);
      callbacks.set(match[1]!, list);
      notify();
      return send(res, 200, { id: match[1], ...(body as object) });
    }
    return send(res, 404, { detail: 'Not Found' });
  };

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const server = createServer((req, res) => void handler(req, res).catch(() => send(res, 500, { detail: 'stand-in failed' })));
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        current = server;
        resolve();
      });
    });

  const stop = async () => {
    const server = current;
    if (!server) return;
    current = undefined;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await closed;
  };

  if (options.started === false) {
    // Reserve a free port, then leave it closed: the engine is "down" until restart().
    await start();
    await stop();
  } else {
    await start();
  }

  const engine: EngineStandIn = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    requests,
    services,
    callbacks,
    callbackStatus: 200,
    callback: (taskId, timeoutMs = 10_000) => waitFor(() => callbacks.get(taskId)?.[0] as Record<string, unknown> | undefined, `the callback of task ${taskId}`, timeoutMs, wake),
    registered: (slug, timeoutMs = 10_000) => waitFor(() => services.get(slug)?.body, `the registration of ${slug}`, timeoutMs, wake),
    stop,
    async restart() {
      if (!current) await start();
    },
    close: stop,
  };
  return engine;
}
