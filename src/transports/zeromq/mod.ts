// switchyard/transports/zeromq: the socket interface (../sockets.ts) over ZeroMQ.
export { ZeroMqSockets, endpointOf } from './zeromq-sockets.js';
export type { ZeroMqSocketsOptions } from './zeromq-sockets.js';
export type { SocketFactory, RequesterSocket, PublisherSocket, Closable, ReplyHandler, FrameHandler } from '../sockets.js';
