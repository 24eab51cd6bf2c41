export { startHttpServer } from './http-server.js';
export { httpCall, httpFailureReason } from './http-client.js';
export type { HttpCallOptions, HttpCallResult, HttpCallFailure } from './http-client.js';
export type { HttpMethod, HttpRequest, HttpResponse, HttpRoute, HttpServeOptions, RunningHttpServer, ServeHttp } from './http-types.js';
