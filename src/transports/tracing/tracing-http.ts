// Traces on the HTTP facet (the task model): a SERVER span around each route's handler,
// child of the `traceparent` header the caller sent, and a CLIENT span around each outbound
// call, which sends its context as `traceparent`/`tracestate` headers.

import { SpanKind, context } from '@opentelemetry/api';
import type { httpCall as HttpCall } from '../http/http-client.js';
import type { HttpRoute, ServeHttp } from '../http/http-types.js';
import { inSpan } from './spans.js';
import { TRACEPARENT, TRACESTATE, carrierOf, contextOf } from './w3c.js';

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** The server's routes, each handler inside a SERVER span named like the route (`POST /compute`). */
export function traceServe(serve: ServeHttp): ServeHttp {
  return (options) =>
    serve({
      ...options,
      routes: options.routes.map((route): HttpRoute => ({
        ...route,
        handler: (request) =>
          inSpan(
            {
              name: `${route.method} ${route.path}`,
              kind: SpanKind.SERVER,
              attributes: { 'http.request.method': route.method, 'http.route': route.path },
            },
            contextOf(first(request.headers[TRACEPARENT]), first(request.headers[TRACESTATE])),
            async (span) => {
              const response = await route.handler(request);
              span.setAttribute('http.response.status_code', response.status);
              return response;
            },
          ),
      })),
    });
}

/** httpCall inside a CLIENT span whose context goes out in the request's headers. */
export function traceCall(call: typeof HttpCall): typeof HttpCall {
  return (url, options) => {
    const { method } = options;
    let host = '';
    try {
      host = new URL(url).host;
    } catch {
      // httpCall refuses it with its own error.
    }
    return inSpan({ name: method, kind: SpanKind.CLIENT, attributes: { 'http.request.method': method, 'server.address': host } }, context.active(), async (span, ctx) => {
      const carrier = carrierOf(ctx);
      const result = await call(url, carrier ? { ...options, headers: { ...options.headers, ...carrier } } : options);
      span.setAttribute('http.response.status_code', result.status);
      return result;
    });
  };
}
