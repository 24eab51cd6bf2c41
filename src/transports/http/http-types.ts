// What a model hands the HTTP transport: plain route descriptions and handlers over plain
// request and response objects. Models import these types only, never fastify.

import type { JsonSchema } from '../../schema/json-schema.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  readonly method: string;
  /** The path as requested, query string excluded. */
  readonly path: string;
  /** Path parameters by name (`{task_id}` → params.task_id), undecoded values as given. */
  readonly params: Readonly<Record<string, string>>;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body bytes (empty when there is none); the route decodes and parses it itself. */
  readonly rawBody: Buffer;
}

export interface HttpResponse {
  readonly status: number;
  /** Sent as JSON; undefined sends no body. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface HttpRoute {
  readonly method: HttpMethod;
  /** OpenAPI style: `/tasks/{task_id}/status`. */
  readonly path: string;
  readonly summary?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  /** Left out of the OpenAPI document (e.g. the `/` redirect). */
  readonly hidden?: boolean;
  /** Whether the route asks for the bearer token declared in the document's security scheme. */
  readonly secured?: boolean;
  /** JSON Schemas for the document only: the handler validates its input itself. */
  readonly schema?: {
    readonly params?: JsonSchema;
    readonly body?: JsonSchema;
    readonly responses?: Readonly<Record<number, { readonly description: string; readonly schema?: JsonSchema }>>;
  };
  handler(request: HttpRequest): HttpResponse | Promise<HttpResponse>;
}

export interface HttpServeOptions {
  /** Address to bind; use 127.0.0.1 unless the service must be reachable from elsewhere. */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly routes: readonly HttpRoute[];
  /** Requests with a larger body are refused with 413 before any handler runs. */
  readonly bodyLimitBytes: number;
  /**
   * Connection limits (Node's defaults otherwise: headers 60 s, no request limit, keep-alive
   * 5 s; fastify's keep-alive 72 s): a client that trickles its request or never finishes its
   * headers is cut off with 408 and its connection closed; an idle kept-alive connection is closed.
   */
  readonly timeouts?: { readonly requestMs: number; readonly headersMs: number; readonly keepAliveMs: number };
  /** The OpenAPI document's info, served at /openapi.json with Swagger UI at /docs. */
  readonly openapi: { readonly title: string; readonly version: string; readonly description?: string; readonly bearerAuth?: boolean };
  /** Told about requests that failed inside the server (never with request bodies). */
  readonly onError?: (err: Error, where: string) => void;
  /** Told about a request refused with 413 before any route ran (its method and path as sent; no body). */
  readonly onTooLarge?: (method: string, path: string) => void;
}

export interface RunningHttpServer {
  /** http://host:port as bound (the real port when 0 was asked). */
  readonly url: string;
  readonly port: number;
  /** Stops listening, lets requests in flight finish, then closes idle connections. */
  close(): Promise<void>;
}

export type ServeHttp = (options: HttpServeOptions) => Promise<RunningHttpServer>;
