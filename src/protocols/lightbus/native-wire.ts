// Switchyard's own RPC format on Redis, used only between a caller of ours and a server of
// ours (a Lightbus peer never sees it: see native-servers.ts for how a caller knows).
// Lightbus's format costs, per call, an expiry key (SET … EX, then a DEL or an expiry in
// Redis), a ~250-byte blob and a Lua script; this one is a line of ~100 bytes, and the
// calls a caller makes in one tick to one API travel as ONE list element:
//
//   sy1 {reply key}\n
//   [id,procedure,deadline,kwargs]\n      one JSON array per call
//   [id,procedure,deadline,kwargs,{"traceparent":…}]  with the caller's trace context (tracing on)
//   …
//
// `deadline` is the Redis clock's ms (redis-clock.ts) past which the caller no longer
// waits: the server drops the call instead of running it (at most once, as Lightbus's
// expiry key does, without a key per call). Results go back on the caller's channel,
// one line per result: [rpcId,false,result] or [rpcId,true,description,trace].
// JSON text never holds a raw newline, so lines split safely.

import { errors } from '../../errors.js';
import type { JsonValue, Kwargs, RpcCall, RpcResult } from '../../transports/bus/bus-transport.js';
import { traceContextJson, traceContextOf } from '../../transports/tracing/carrier.js';
import { REPLY_KEY_PREFIX } from './names.js';

const HEADER = 'sy1 ';
const str = JSON.stringify;

export interface NativeCall extends RpcCall {
  /** Redis clock ms after which the caller no longer waits. */
  readonly deadline: number;
}

/** One call as a line of a call element. */
export function encodeCallLine(call: RpcCall, deadline: number): string {
  const trace = call.traceContext ? `,${traceContextJson(call.traceContext)}` : '';
  return `[${str(call.id)},${str(call.procedure)},${Math.round(deadline)},${str(call.kwargs)}${trace}]`;
}

/** The element that carries a burst of call lines for one API from one caller. */
export function encodeCallElement(replyKey: string, lines: readonly string[]): string {
  return `${HEADER}${replyKey}\n${lines.join('\n')}`;
}

export interface DecodedElement {
  readonly replyKey: string;
  readonly calls: NativeCall[];
  /** Lines that could not be read, with why (their callers time out). */
  readonly bad: string[];
  /** Calls whose id could be read but not the rest: answered with an error result. */
  readonly refused: { readonly id: string; readonly why: string }[];
}

/** Reads a call element popped from `api`'s queue; throws SY_ERR_BUS_FRAME if its header is wrong. */
export function decodeCallElement(api: string, raw: string): DecodedElement {
  const end = raw.indexOf('\n');
  if (!raw.startsWith(HEADER) || end < 0) throw new errors.SY_ERR_BUS_FRAME('Switchyard RPC call batch', `it does not start with "${HEADER}{reply key}" and a newline`);
  const replyKey = raw.slice(HEADER.length, end);
  if (!replyKey.startsWith(REPLY_KEY_PREFIX)) throw new errors.SY_ERR_BUS_FRAME('Switchyard RPC call batch', `its reply key does not start with ${REPLY_KEY_PREFIX}`);
  const calls: NativeCall[] = [];
  const bad: string[] = [];
  const refused: { id: string; why: string }[] = [];
  for (const line of raw.slice(end + 1).split('\n')) {
    const problem = readCallLine(api, line, calls);
    if (typeof problem === 'string') bad.push(problem);
    else if (problem) refused.push(problem);
  }
  return { replyKey, calls, bad, refused };
}

/** Adds the call on `line` to `into`; else why not: text when it has no id to answer, else the id and why. */
function readCallLine(api: string, line: string, into: NativeCall[]): string | { id: string; why: string } | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return 'a call line is not JSON';
  }
  if (!Array.isArray(doc) || (doc.length !== 4 && doc.length !== 5)) return 'a call line is not [id, procedure, deadline, kwargs]';
  const [id, procedure, deadline, kwargs, trace] = doc as unknown[];
  if (typeof id !== 'string' || id === '') return 'a call id is not a non-empty string';
  if (typeof procedure !== 'string' || procedure === '') return { id, why: 'the procedure is not a non-empty string' };
  if (typeof deadline !== 'number') return { id, why: 'the deadline is not a number' };
  if (kwargs === null || typeof kwargs !== 'object' || Array.isArray(kwargs)) return { id, why: Array.isArray(kwargs) ? 'kwargs is a list; send the parameters as a JSON object of named values' : 'kwargs is not an object' };
  const traceContext = trace === undefined ? undefined : traceContextOf(trace);
  into.push({ id, api, procedure, deadline, kwargs: kwargs as Kwargs, ...(traceContext ? { traceContext } : {}) });
  return undefined;
}

export function encodeResultLine(result: RpcResult): string {
  const head = `[${str(result.rpcId)},${result.error},${str(result.result)}`;
  return result.error ? `${head},${str(result.trace ?? '')}]` : `${head}]`;
}

/** True for a result in this format (a Lightbus result blob is a JSON object). */
export const isResultLine = (raw: string) => raw.charCodeAt(0) === 0x5b; // '['

/** A result line (it has no id of its own). */
export function decodeResultLine(raw: string): RpcResult {
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    throw new errors.SY_ERR_BUS_FRAME('Switchyard RPC result', 'not JSON');
  }
  const [rpcId, error, result, trace] = (Array.isArray(doc) ? doc : []) as unknown[];
  if (typeof rpcId !== 'string' || typeof error !== 'boolean') throw new errors.SY_ERR_BUS_FRAME('Switchyard RPC result', 'not [call id, error, result]');
  return { rpcId, error, result: (result ?? null) as JsonValue, ...(typeof trace === 'string' ? { trace } : {}) };
}
