// switchyardjs/transports/unix: acomm over unix sockets (mistifyio/acomm's wire), with no
// knowledge of tasks: framing, exchange listeners and clients, response hooks, streams.
export { encodeFrame, readFrame, readJsonFrame, FrameError, DEFAULT_MAX_FRAME_BYTES, DEFAULT_FRAME_READ_TIMEOUT_MS } from './framing.js';
export type { FrameProblem, ReadFrameOptions } from './framing.js';
export { parseJson, stringifyJson } from './exact-json.js';
export {
  encodeRequest, encodeResponse, encodeAck, decodeRequest, decodeResponse, validateRequest, replyTo, EMPTY_RESPONSE,
  toGoUrl, urlFromWire, unixPathOf, unixUrl,
} from './acomm.js';
export type { AcommRequest, AcommResponse, GoUrl } from './acomm.js';
export { listenExchanges } from './unix-listener.js';
export type { ExchangeListener, ExchangeListenerOptions, ExchangeReply } from './unix-listener.js';
export { exchange, connectUnix, UnixConnectError } from './unix-client.js';
export type { ExchangeOptions } from './unix-client.js';
export { sendTo } from './hook-send.js';
export type { SendOptions } from './hook-send.js';
export { listenResponses } from './response-listener.js';
export type { ResponseListenerOptions } from './response-listener.js';
export { openStreamSocket, openStream, readStream } from './stream-socket.js';
export type { StreamSocket, StreamSource, StreamSocketOptions } from './stream-socket.js';
export { prepareSocketPath, probeSocket, checkSocketPathLength, MAX_SOCKET_PATH_BYTES } from './socket-path.js';
export type { ProbeResult } from './socket-path.js';
