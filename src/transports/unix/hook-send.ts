// acomm's Send (SPECS.md §4.3): delivers a message to a URL by its scheme.
//   unix://  one framed exchange; the reply's "error" is the outcome
//   http(s)  POST of the raw JSON (no length prefix); the reply body is a Response too
// Anything else fails with "unknown url type", as in the original.

import { errors } from '../../errors.js';
import { httpCall } from '../http/http-client.js';
import { decodeResponse, unixPathOf } from './acomm.js';
import { parseJson } from './exact-json.js';
import { exchange, type ExchangeOptions } from './unix-client.js';

export interface SendOptions extends ExchangeOptions {
  /** Overall time limit for http(s) hooks. Default 10000 ms. */
  readonly httpTimeoutMs?: number;
  /** Most bytes of an http(s) hook's reply read (an acomm response is small). Default 64 KiB. */
  readonly httpMaxReplyBytes?: number;
}

const unixHookPaths = new Map<string, string>();

/**
 * Sends `json` (an encoded Request or Response) to `url` and returns the peer's reply error
 * text ("" = accepted). Connection failures throw (UnixConnectError for unix sockets).
 */
export async function sendTo(url: string, json: string, options: SendOptions = {}): Promise<string> {
  // A provider sends to the same few hooks again and again: their socket paths are kept
  // rather than parsed anew (twice) per response.
  let path = unixHookPaths.get(url);
  if (path === undefined && url.startsWith('unix:')) {
    try {
      path = unixPathOf(url);
      if (unixHookPaths.size >= 64) unixHookPaths.clear();
      unixHookPaths.set(url, path);
    } catch {
      // not a URL: said below
    }
  }
  if (path !== undefined) return decodeResponse(await exchange(path, json, options)).error;
  let scheme: string;
  try {
    scheme = new URL(url).protocol;
  } catch {
    throw new errors.SY_ERR_HOOK(url, 'it is not a URL; use unix:///path/to/socket.sock or http(s)://host/path');
  }
  if (scheme === 'unix:') return decodeResponse(await exchange(unixPathOf(url), json, options)).error;
  if (scheme === 'http:' || scheme === 'https:') {
    let res;
    try {
      res = await httpCall(url, {
        method: 'POST',
        body: json,
        timeoutMs: options.httpTimeoutMs ?? 10_000,
        maxResponseBytes: options.httpMaxReplyBytes ?? 64 * 1024,
      });
    } catch (err) {
      throw new errors.SY_ERR_HOOK(url, `the POST failed: ${(err as Error).message}`);
    }
    if (res.truncated) throw new errors.SY_ERR_HOOK(url, `HTTP ${res.status} with a reply longer than ${options.httpMaxReplyBytes ?? 64 * 1024} bytes (the rest was not read)`);
    try {
      return decodeResponse(parseJson(res.text)).error;
    } catch {
      throw new errors.SY_ERR_HOOK(url, `HTTP ${res.status} with a body that is not an acomm response`);
    }
  }
  throw new errors.SY_ERR_HOOK(url, 'unknown url type; use unix:// or http(s)://');
}
