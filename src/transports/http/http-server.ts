// Serves a model's JSON routes over HTTP with fastify, plus the OpenAPI document at
// /openapi.json and Swagger UI at /docs. Validation and serialisation stay with the model
// (its one validator gives FastAPI-shaped 422 bodies), so fastify is told to do neither:
// route schemas here only feed the document.

import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { errors } from '../../errors.js';
import type { JsonSchema } from '../../schema/json-schema.js';
import type { HttpRequest, HttpResponse, HttpRoute, HttpServeOptions, RunningHttpServer } from './http-types.js';

/** `/tasks/{task_id}/status` → `/tasks/:task_id/status` */
function fastifyPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/** `/tasks/{task_id}/status` → a RegExp matching concrete paths of that shape. */
function pathPattern(path: string): RegExp {
  const escaped = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\{[^}]+\}/g, '[^/]+')}$`);
}

/** Draft-07 keywords OpenAPI 3.1 does not want at the top of an inline schema. */
function inline(schema: JsonSchema): JsonSchema {
  const { $schema: _drop, ...rest } = schema;
  return rest;
}

function documentSchema(route: HttpRoute): Record<string, unknown> {
  const schema: Record<string, unknown> = {};
  if (route.hidden) schema.hide = true;
  if (route.summary) schema.summary = route.summary;
  if (route.description) schema.description = route.description;
  if (route.tags) schema.tags = [...route.tags];
  if (route.secured) schema.security = [{ bearerAuth: [] }];
  if (route.schema?.params) schema.params = inline(route.schema.params);
  if (route.schema?.body) schema.body = inline(route.schema.body);
  if (route.schema?.responses) {
    schema.response = Object.fromEntries(
      Object.entries(route.schema.responses).map(([code, r]) => [code, { description: r.description, ...(r.schema ? inline(r.schema) : {}) }]),
    );
  }
  return schema;
}

/**
 * JSON exactly as FastAPI sends it: content-type application/json, no charset parameter (a
 * Buffer: fastify appends "; charset=utf-8" to a JSON type sent as a string).
 */
function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(Buffer.from(JSON.stringify(body)));
}

function respond(reply: FastifyReply, res: HttpResponse): FastifyReply {
  if (res.headers) reply.headers(res.headers);
  if (res.body === undefined) return reply.code(res.status).send();
  return sendJson(reply, res.status, res.body);
}

const EMPTY = Buffer.alloc(0);

/** The content-type header each request came with (see the onRequest hook). */
const sentContentType = new WeakMap<object, string>();

function toRequest(req: FastifyRequest): HttpRequest {
  const q = req.url.indexOf('?');
  const contentType = sentContentType.get(req.raw);
  return {
    method: req.method,
    path: q === -1 ? req.url : req.url.slice(0, q),
    params: (req.params ?? {}) as Record<string, string>,
    headers: contentType === undefined ? req.headers : { ...req.headers, 'content-type': contentType },
    rawBody: Buffer.isBuffer(req.body) ? req.body : EMPTY,
  };
}

export async function startHttpServer(options: HttpServeOptions): Promise<RunningHttpServer> {
  const t = options.timeouts;
  const app = Fastify({
    logger: false, bodyLimit: options.bodyLimitBytes, return503OnClosing: true, exposeHeadRoutes: false,
    ...(t ? {
      requestTimeout: t.requestMs,
      keepAliveTimeout: t.keepAliveMs,
      // Node checks these limits every connectionsCheckingInterval (30 s by default): check
      // often enough that a limit of a few seconds holds to within a quarter of itself.
      http: { headersTimeout: Math.min(t.headersMs, t.requestMs || t.headersMs), connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(Math.min(t.headersMs, t.requestMs || t.headersMs) / 4))) },
    } : {}),
  });

  // Every body arrives as bytes, whatever its content type: the route decodes, parses and
  // validates it (FastAPI decides by content type and detects the encoding itself). Fastify
  // would refuse a content type it cannot parse ("", "json") with 415 before any parser
  // runs, so the header is set aside here and handed to the route as it came.
  // A callback hook, not an async one: no promise per request (GET /status against a bare
  // fastify route, bench/http-task.ts).
  app.addHook('onRequest', (req, _reply, done) => {
    const headers = req.raw.headers;
    if (headers['content-type'] !== undefined) {
      sentContentType.set(req.raw, headers['content-type']);
      headers['content-type'] = 'application/octet-stream';
    }
    done();
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      options.onTooLarge?.(req.method, req.url.split('?')[0]!);
      return sendJson(reply, 413, { detail: `Request body is larger than the limit of ${options.bodyLimitBytes} bytes` });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) options.onError?.(err, 'request handler');
    return sendJson(reply, status, { detail: status === 500 ? 'Internal Server Error' : err.message });
  });
  // As Starlette: a known path asked with another method is 405 with an Allow header.
  const patterns = options.routes.map((r) => ({ method: r.method, re: pathPattern(r.path) }));
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = [...new Set(patterns.filter((p) => p.re.test(path)).map((p) => p.method))];
    if (allowed.length > 0) return sendJson(reply.header('allow', allowed.join(', ')), 405, { detail: 'Method Not Allowed' });
    return sendJson(reply, 404, { detail: 'Not Found' });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.openapi.title, version: options.openapi.version, ...(options.openapi.description ? { description: options.openapi.description } : {}) },
      ...(options.openapi.bearerAuth ? { components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } } } : {}),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  for (const route of options.routes) {
    app.route({
      method: route.method,
      url: fastifyPath(route.path),
      schema: documentSchema(route),
      // Not an async function: a route that answers at once (GET /status) is sent without a
      // promise or a turn of the microtask queue; fastify handles a thrown error as a rejection.
      handler: (req: FastifyRequest, reply: FastifyReply) => {
        const res = route.handler(toRequest(req));
        if (typeof (res as Promise<HttpResponse>).then === 'function') return (res as Promise<HttpResponse>).then((r) => respond(reply, r));
        respond(reply, res as HttpResponse);
        return undefined;
      },
    });
  }
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    await app.close().catch(() => undefined);
    const code = (err as { code?: string }).code;
    const why = code === 'EADDRINUSE' ? 'the port is already in use; pick another port (SERVICE_PORT or --port)'
      : code === 'EADDRNOTAVAIL' ? 'the address is not one of this machine\'s; bind 127.0.0.1 or 0.0.0.0 (SERVICE_HOST or --host)'
      : code === 'EACCES' ? 'permission denied; use a port above 1023'
      : (err as Error).message;
    throw new errors.SY_ERR_HTTP_LISTEN(`${options.host}:${options.port}`, why);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () => (closing ??= app.close()),
  };
}
