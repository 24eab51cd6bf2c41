// A configuration service that answers exactly like slingshot's sys-map service
// (SPECS.md §1.2-1.4, §1.6), served from a system map. It lets an unchanged slingshot
// service, or HttpConfigSource, run against a local map. Responses are built by hand,
// not with JSON.stringify of an object, so that key order is fixed and integer cases
// above 2^53 print exactly.
//
// It serves secret references (pass entry names), never secret values: resolving stays
// with the service that needs the secret.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { caseToJson } from './case-value.js';
import { RESERVED_SERVICE_NAMES, declaresQueues, trimSlashes, type SysMap } from './sysmap.js';

export interface ConfigServerOptions {
  map: SysMap;
  /** Default 127.0.0.1: the map names internal hosts and secret entries, so it is not published by default. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
}

export interface ConfigServer {
  /** http://host:port, usable as HttpConfigSource's `host`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

interface Reply { status: number; type: string; body: string }

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

const s = JSON.stringify;

/** The body for one path, or a 404 that says what is there instead. Exported for tests. */
export function replyFor(map: SysMap, pathname: string): Reply {
  // Leading and trailing slashes are trimmed like slingshot trims the alias key (§1.6).
  const parts = trimSlashes(pathname).split('/');
  let segments: string[];
  try {
    segments = parts.map((p) => decodeURIComponent(p));
  } catch {
    return text(400, `path ${s(pathname)} is not valid percent-encoding\n`);
  }
  const [first = '', ...rest] = segments;
  // The alias is trimmed on its own too: a client that trims its key still sends "svc//raw" for "/raw".
  const alias = trimSlashes(rest.join('/'));

  if (first === 'rabbitmq' && alias === '') {
    const r = map.rabbitmq;
    if (!r) return notFound(map, 'endpoint "rabbitmq": the system map has no rabbitmq section');
    return json(`{"host":[${s(r.host)}],"port":[${r.port}],"username":[${s(r.username)}],"pass":[${s(r.passwordRef)}]}`);
  }
  if (first === 'object-storage' && alias === '') {
    const o = map.objectStorage;
    if (!o) return notFound(map, 'endpoint "object-storage": the system map has no object-storage section');
    return json(`{"host":[${s(o.host)}],"pass:access-key":[${s(o.accessKeyRef)}],"pass:secret-key":[${s(o.secretKeyRef)}]}`);
  }

  if (first === 'queue-declarations' && alias === '') {
    // Switchyard's own endpoint (slingshot has none): how brokers should declare each queue.
    // A map that declares nothing answers 404, as slingshot's service does: clients then
    // use existing queues as they are.
    if (!declaresQueues(map)) return notFound(map, 'queue declarations: the system map declares no queue flags (queueDefaults, queues)');
    const body = { defaults: map.queueDefaults ?? null, queues: Object.fromEntries(map.queues) };
    return json(JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
  }

  const service = map.services.get(first);
  if (!service) {
    const what = first === '' ? 'no service named in the path' : RESERVED_SERVICE_NAMES.includes(first) ? `endpoint ${s(first)}` : `service ${s(first)}`;
    return notFound(map, what);
  }
  if (alias === '') {
    const out = service.out.map((o) => `{"case":${caseToJson(o.case)},"queues":${s(o.queues)}}`).join(',');
    return json(`{"in":${s(service.in)},"out":[${out}]}`);
  }
  const bucket = service.buckets.get(alias);
  if (bucket === undefined) {
    const known = [...service.buckets.keys()].map((a) => s(a)).join(', ') || 'none';
    return text(404, `not found: bucket alias ${s(alias)} of service ${s(first)}; its aliases: ${known}\n`);
  }
  return text(200, bucket);
}

function notFound(map: SysMap, what: string): Reply {
  const services = [...map.services.keys()].map((k) => s(k)).join(', ') || 'none';
  const endpoints = [map.rabbitmq && '"rabbitmq"', map.objectStorage && '"object-storage"'].filter(Boolean).join(', ') || 'none';
  return text(404, `not found: ${what}; services: ${services}; endpoints: ${endpoints}\n`);
}

function json(body: string): Reply {
  return { status: 200, type: JSON_TYPE, body };
}

function text(status: number, body: string): Reply {
  return { status, type: TEXT_TYPE, body };
}

function handle(map: SysMap, req: IncomingMessage, res: ServerResponse): void {
  let reply: Reply;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply = text(405, `method ${req.method ?? '?'} is not allowed; this service answers GET only\n`);
    res.setHeader('Allow', 'GET, HEAD');
  } else {
    // Only the path matters; a query string is ignored as slingshot's server would.
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    reply = replyFor(map, q < 0 ? raw : raw.slice(0, q));
  }
  const body = Buffer.from(reply.body, 'utf8');
  res.writeHead(reply.status, { 'Content-Type': reply.type, 'Content-Length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export async function startConfigServer(opts: ConfigServerOptions): Promise<ConfigServer> {
  const { map, host = '127.0.0.1', port = 0 } = opts;
  const server = createServer((req, res) => handle(map, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${addr.port}`,
    port: addr.port,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Clients (fetch) keep connections alive; without this close() waits for them to time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
