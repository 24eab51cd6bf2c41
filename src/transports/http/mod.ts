export { startHttpServer } from './http-server.js';
export { httpCall, HttpCallError } from './http-client.js';
export type { HttpCallOptions, HttpCallResult } from './http-client.js';
export type { HttpMethod, HttpRequest, HttpResponse, HttpRoute, HttpServeOptions, RunningHttpServer, ServeHttp } from './http-types.js';
