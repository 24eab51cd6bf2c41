// A response hook: a socket that receives acomm Responses. Each is acked with an empty
// Response{} on its connection (as acomm's tracker does) and then handed on, so a slow
// consumer never holds the sender's connection.

import { decodeResponse, encodeResponse, EMPTY_RESPONSE, replyTo, type AcommResponse } from './acomm.js';
import { listenExchanges, type ExchangeListener } from './unix-listener.js';
import { encodeFrame, type ReadFrameOptions } from './framing.js';

export interface ResponseListenerOptions extends ReadFrameOptions {
  readonly path: string;
  readonly mode?: number;
  onResponse(response: AcommResponse): void;
  onError?(err: Error): void;
}

// Framed once: every response is acked with the same bytes.
const ACK = { frame: encodeFrame(encodeResponse(EMPTY_RESPONSE)) };

export function listenResponses(options: ResponseListenerOptions): Promise<ExchangeListener> {
  return listenExchanges({
    ...options,
    handle: (message) => {
      let response: AcommResponse;
      try {
        response = decodeResponse(message);
      } catch (err) {
        return encodeResponse(replyTo('', `invalid response: ${(err as Error).message}`));
      }
      // After the ack is on its way: the sender's exchange is done either way.
      queueMicrotask(() => {
        try {
          options.onResponse(response);
        } catch (err) {
          options.onError?.(err as Error);
        }
      });
      return ACK;
    },
    onFrameError: (err) => encodeResponse(replyTo('', err.message)),
  });
}
