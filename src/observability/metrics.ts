// The metrics endpoint of a process: GET /metrics from a prom-client registry (the one
// observer-metrics.ts derives from the observer stream, for every model), and GET /health
// and /ready from the runtime's health, for orchestrators' probes. It knows no model.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { errors } from '../errors.js';

/** What GET /health and GET /ready report (the runtime's health, structurally). */
export interface HealthReport {
  readonly status: 'ok' | 'starting' | 'stopping' | 'failed';
  readonly components: readonly unknown[];
}

export interface MetricsServerOptions {
  registry: Registry;
  /**
   * Also serve GET /health (200 while the process runs, with the report) and GET /ready (200
   * when status is "ok", 503 otherwise), for orchestrators' probes.
   */
  health?: () => HealthReport;
  /** 0 picks a free port; the chosen one is in the result. */
  port: number;
  /** Default 127.0.0.1; use 0.0.0.0 to be scraped from other hosts. */
  host?: string;
}

export interface MetricsServer {
  /** The server's base URL, e.g. http://127.0.0.1:9464; scrape `${url}/metrics`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and drops open connections; safe to call more than once. */
  close(): Promise<void>;
}

/** Serves `GET /metrics` from the registry (and /health, /ready with `health`); every other path is 404. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry, port } = options;
  const host = options.host ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new errors.SY_ERR_SETTINGS(`metrics port ${JSON.stringify(port)} is not valid; use an integer from 0 to 65535 (0 picks a free port)`);
  }

  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    const health = options.health;
    const known = pathname === '/metrics' || (health !== undefined && (pathname === '/health' || pathname === '/ready'));
    if (!known) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found; metrics are at /metrics${health ? ', health at /health and /ready' : ''}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('use GET\n');
      return;
    }
    if (health && pathname !== '/metrics') {
      const report = health();
      const body = JSON.stringify(report);
      const status = pathname === '/ready' && report.status !== 'ok' ? 503 : 200;
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`collecting metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      reject(Object.assign(
        new errors.SY_ERR_SETTINGS(`the metrics server cannot listen on ${host}:${port}: ${err.message}`),
        { cause: err },
      ));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });

  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${bound}`,
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
