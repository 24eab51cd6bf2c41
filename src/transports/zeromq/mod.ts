// switchyardjs/transports/zeromq: the socket interface (../sockets.ts) over ZeroMQ.
export { ZeroMqSockets, endpointOf } from './zeromq-sockets.js';
export { DEFAULT_MAX_MESSAGE_SIZE } from './defaults.js';
export type { ZeroMqSocketsOptions } from './zeromq-sockets.js';
export type { SocketFactory, RequesterSocket, PublisherSocket, Closable, ReplyHandler, FrameHandler, ReceiveOptions } from '../sockets.js';
