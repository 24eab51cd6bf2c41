// A small Core engine for the tests, over real HTTP on 127.0.0.1, behaving as the current
// core-engine does towards a service:
//   - POST /services: 422 for a body that is not a ServiceCreate; 409 for a known slug;
//     otherwise it calls GET {url}/status on the service and stores it only if that
//     answers 200 (503 when unreachable, 500 for another status);
//   - GET /services/slug/{slug}; PATCH /services/{id} sets only the fields sent (a partial
//     update: {"status": "sleeping"} changes the status alone);
//   - POST /services/{slug}/ping with the service JSON: 200 and the ping time noted (a
//     sleeping service is available again), 404 "Service Not Found" for an unknown slug;
//     `heartbeats: false` is an engine from before heartbeats: 404 "Not Found" (no route);
//   - every `checkIntervalMs` (30 s) a service without a ping for checkIntervalMs + graceMs
//     (20 s) is marked sleeping;
//   - PATCH /tasks/{id} (the task callbacks) is recorded.
// `stop()` takes it down like a crash; `restart()` brings it back on the same port, with
// its services (a database) or without them (`{ forget: true }`: a fresh database).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  readonly rawBody: string;
}

export interface StoredService {
  readonly id: string;
  body: Record<string, unknown>;
  status: 'available' | 'unavailable' | 'sleeping' | 'disabled';
  latestPing: number;
}

export interface EngineOptions {
  port?: number;
  started?: boolean;
  /** Whether POST /services/{slug}/ping exists (the current engine); default true. */
  heartbeats?: boolean;
  /** How often the engine checks the pings; default 30 s. */
  checkIntervalMs?: number;
  /** How long past the check interval a service may stay silent; default 20 s. */
  graceMs?: number;
}

export interface EngineStandIn {
  readonly url: string;
  readonly port: number;
  readonly requests: Recorded[];
  /** Registered services by slug. */
  readonly services: Map<string, StoredService>;
  /** Callback bodies by task id, in arrival order. */
  readonly callbacks: Map<string, unknown[]>;
  /** Resolves with the first callback body for the task (waits for it, bounded by timeoutMs). */
  callback(taskId: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves once a service with this slug is registered (created or updated). */
  registered(slug: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves once `check` holds, re-checked on every request the engine gets (bounded by timeoutMs). */
  until<T>(what: string, check: () => T | undefined, timeoutMs?: number): Promise<T>;
  /** Answer PATCH /tasks/* with this status instead of 200 (e.g. 500 to test retries). */
  callbackStatus: number;
  /** Called (and awaited) for each request before it is answered. */
  onRequest: ((request: Recorded) => Promise<void> | void) | undefined;
  stop(): Promise<void>;
  restart(options?: { forget?: boolean }): Promise<void>;
  close(): Promise<void>;
}

const MEDIA_TYPES = ['image/jpeg', 'image/png', 'text/plain', 'text/csv', 'application/json', 'application/pdf', 'application/zip', 'audio/mpeg', 'audio/ogg'];

/** What the engine's ServiceCreate model refuses, as FastAPI 422 entries (shape only). */
function serviceCreateProblems(b: unknown): string[] {
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return ['body'];
  const o = b as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ['name', 'slug', 'summary', 'url']) if (typeof o[key] !== 'string') problems.push(key);
  if (o.description !== undefined && o.description !== null && typeof o.description !== 'string') problems.push('description');
  for (const key of ['data_in_fields', 'data_out_fields']) {
    const fields = o[key];
    if (!Array.isArray(fields)) {
      problems.push(key);
      continue;
    }
    fields.forEach((f: unknown, i) => {
      const field = f as { name?: unknown; type?: unknown } | null;
      if (!field || typeof field.name !== 'string') problems.push(`${key}.${i}.name`);
      if (!field || !Array.isArray(field.type) || !field.type.every((t) => MEDIA_TYPES.includes(t as string))) problems.push(`${key}.${i}.type`);
    });
  }
  if (!Array.isArray(o.tags)) problems.push('tags');
  return problems;
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

export async function startEngine(options: EngineOptions = {}): Promise<EngineStandIn> {
  const requests: Recorded[] = [];
  const services = new Map<string, StoredService>();
  const callbacks = new Map<string, unknown[]>();
  const wake = new Set<() => void>();
  const notify = () => [...wake].forEach((f) => f());
  const heartbeats = options.heartbeats ?? true;
  const checkIntervalMs = options.checkIntervalMs ?? 30_000;
  const graceMs = options.graceMs ?? 20_000;
  let port = options.port ?? 0;
  let current: Server | undefined;
  let checker: NodeJS.Timeout | undefined;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const read = (s: StoredService) => ({ ...s.body, id: s.id, status: s.status });

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const rawBody = await readBody(req);
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const recorded: Recorded = { method: req.method ?? '', path, body, rawBody };
    requests.push(recorded);
    await engine.onRequest?.(recorded);
    notify();
    const m = (re: RegExp) => re.exec(path);
    let match: RegExpExecArray | null;
    if (req.method === 'POST' && path === '/services') {
      const problems = serviceCreateProblems(body);
      if (problems.length > 0) return send(res, 422, { detail: problems.map((p) => ({ type: 'invalid', loc: ['body', ...p.split('.')], msg: 'invalid' })) });
      const b = body as Record<string, unknown>;
      if (services.has(String(b.slug))) return send(res, 409, { detail: `Service with slug '${String(b.slug)}' already exists.` });
      try {
        const r = await fetch(`${String(b.url).replace(/\/$/, '')}/status`, { signal: AbortSignal.timeout(5000) });
        await r.text();
        if (r.status !== 200) return send(res, 500, { detail: 'service unavailable' });
      } catch {
        return send(res, 503, { detail: 'Service not reachable' });
      }
      const stored: StoredService = { id: randomUUID(), body: b, status: 'available', latestPing: Date.now() };
      services.set(String(b.slug), stored);
      notify();
      return send(res, 200, read(stored));
    }
    if (req.method === 'POST' && (match = m(/^\/services\/([^/]+)\/ping$/))) {
      if (!heartbeats) return send(res, 404, { detail: 'Not Found' });
      const s = services.get(decodeURIComponent(match[1]!));
      if (!s) return send(res, 404, { detail: 'Service Not Found' });
      s.latestPing = Date.now();
      if (s.status === 'sleeping') s.status = 'available';
      notify();
      return send(res, 200, read(s));
    }
    if (req.method === 'GET' && (match = m(/^\/services\/slug\/([^/]+)$/))) {
      const s = services.get(decodeURIComponent(match[1]!));
      return s ? send(res, 200, read(s)) : send(res, 404, { detail: 'Service Not Found' });
    }
    if (req.method === 'PATCH' && (match = m(/^\/services\/([^/]+)$/))) {
      const entry = [...services.values()].find((s) => s.id === match![1]);
      if (!entry) return send(res, 404, { detail: 'Service Not Found' });
      const patch = (body ?? {}) as Record<string, unknown>;
      const { status, ...rest } = patch;
      entry.body = { ...entry.body, ...rest };
      if (typeof status === 'string') entry.status = status as StoredService['status'];
      notify();
      return send(res, 200, read(entry));
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
        checker = setInterval(() => {
          for (const s of services.values()) {
            if (s.status === 'available' && Date.now() - s.latestPing > checkIntervalMs + graceMs) {
              s.status = 'sleeping';
              notify();
            }
          }
        }, checkIntervalMs);
        checker.unref();
        resolve();
      });
    });

  const stop = async () => {
    clearInterval(checker);
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
    onRequest: undefined,
    callback: (taskId, timeoutMs = 10_000) => waitFor(() => callbacks.get(taskId)?.[0] as Record<string, unknown> | undefined, `the callback of task ${taskId}`, timeoutMs, wake),
    registered: (slug, timeoutMs = 10_000) => waitFor(() => services.get(slug)?.body, `the registration of ${slug}`, timeoutMs, wake),
    until: (what, check, timeoutMs = 10_000) => waitFor(check, what, timeoutMs, wake),
    stop,
    async restart(restartOptions = {}) {
      if (restartOptions.forget) services.clear();
      if (!current) await start();
    },
    close: stop,
  };
  return engine;
}
