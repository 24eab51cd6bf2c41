// Lightbus's blob serializer (SPECS.md §5.1), as text: one JSON document `{"kwargs": {...},
// "metadata": {...}}` per RPC call and per result; events use it too on transports that
// carry one body per message (on Redis streams events go field by field instead).

import { errors } from '../../errors.js';
import type { BusEvent, Kwargs, RpcCall, RpcResult } from '../../transports/bus/bus-transport.js';
import { sorted } from '../../transports/bus/sorted-json.js';
import { uuid1 } from '../../transports/bus/uuid1.js';
import { traceContextJson, traceContextOf, type TraceContext } from '../../transports/tracing/carrier.js';

const text = new TextDecoder('utf-8', { fatal: true });

function parseBlob(input: string | Uint8Array, what: string): { kwargs: Kwargs; metadata: Record<string, unknown>; traceContext: TraceContext | undefined } {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof input === 'string' ? input : text.decode(input));
  } catch {
    throw new errors.SY_ERR_BUS_FRAME(what, 'not UTF-8 JSON');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new errors.SY_ERR_BUS_FRAME(what, 'not a JSON object');
  const { kwargs, metadata, trace_context } = doc as { kwargs?: unknown; metadata?: unknown; trace_context?: unknown };
  if (kwargs === null || typeof kwargs !== 'object' || Array.isArray(kwargs)) throw new errors.SY_ERR_BUS_FRAME(what, '"kwargs" is missing or not an object');
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw new errors.SY_ERR_BUS_FRAME(what, '"metadata" is missing or not an object');
  return { kwargs: kwargs as Kwargs, metadata: metadata as Record<string, unknown>, traceContext: trace_context === undefined ? undefined : traceContextOf(trace_context) };
}

function requireString(metadata: Record<string, unknown>, key: string, what: string): string {
  const v = metadata[key];
  if (typeof v !== 'string' || v === '') throw new errors.SY_ERR_BUS_FRAME(what, `metadata "${key}" is missing or not a non-empty string`);
  return v;
}

// The encoders below write their own keys in sorted order, so only the user's values need
// sorting (see sorted-json.ts). The two RPC ones, on every call's path, write the document
// around JSON.stringify of the values: half the time of stringifying a nested object.
const str = JSON.stringify;

// The trace context rides as a top-level "trace_context" beside kwargs and metadata:
// Lightbus's blob deserializer reads only those two keys, so its peers ignore it.
const traceTail = (tc: TraceContext | undefined) => (tc ? `,"trace_context":${traceContextJson(tc)}` : '');

export function encodeRpcBlob(call: RpcCall, returnPath: string): string {
  return `{"kwargs":${str(sorted(call.kwargs))},"metadata":{"api_name":${str(call.api)},"id":${str(call.id)},"procedure_name":${str(call.procedure)},"return_path":${str(returnPath)}}${traceTail(call.traceContext)}}`;
}

export function decodeRpcBlob(bytes: string | Uint8Array): RpcCall & { readonly returnPath: string } {
  const { kwargs, metadata, traceContext } = parseBlob(bytes, 'RPC call');
  return {
    id: requireString(metadata, 'id', 'RPC call'),
    api: requireString(metadata, 'api_name', 'RPC call'),
    procedure: requireString(metadata, 'procedure_name', 'RPC call'),
    returnPath: requireString(metadata, 'return_path', 'RPC call'),
    kwargs,
    ...(traceContext ? { traceContext } : {}),
  };
}

/**
 * What can still be read of an RPC call blob that decodeRpcBlob refused (kwargs a list,
 * say): its id and return path when those are there, so that its caller gets an error
 * result instead of waiting for its timeout, and why it cannot run. Undefined when it
 * cannot be answered.
 */
export function answerableCall(input: string | Uint8Array): { id: string; returnPath: string; api?: string; procedure?: string; why: string } | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof input === 'string' ? input : text.decode(input));
  } catch {
    return undefined;
  }
  const { metadata, kwargs } = (doc ?? {}) as { metadata?: unknown; kwargs?: unknown };
  if (metadata === null || typeof metadata !== 'object') return undefined;
  const { id, return_path: returnPath, api_name: api, procedure_name: procedure } = metadata as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || typeof returnPath !== 'string' || returnPath === '') return undefined;
  const why = Array.isArray(kwargs)
    ? '"kwargs" is a list; send the parameters as a JSON object of named values'
    : kwargs === null || typeof kwargs !== 'object'
      ? '"kwargs" is missing or not an object'
      : typeof api !== 'string' || api === ''
        ? 'metadata "api_name" is missing'
        : 'metadata "procedure_name" is missing';
  return { id, returnPath, why, ...(typeof api === 'string' ? { api } : {}), ...(typeof procedure === 'string' ? { procedure } : {}) };
}

export function encodeResultBlob(result: RpcResult): string {
  const trace = result.error ? `,"trace":${str(result.trace ?? '')}` : '';
  return `{"kwargs":{"result":${str(sorted(result.result))}},"metadata":{"error":${result.error},"id":${str(result.id ?? uuid1())},"rpc_message_id":${str(result.rpcId)}${trace}}}`;
}

export function decodeResultBlob(bytes: string | Uint8Array): RpcResult {
  const { kwargs, metadata } = parseBlob(bytes, 'RPC result');
  const error = metadata.error;
  if (typeof error !== 'boolean') throw new errors.SY_ERR_BUS_FRAME('RPC result', 'metadata "error" is missing or not a boolean');
  return {
    id: requireString(metadata, 'id', 'RPC result'),
    rpcId: requireString(metadata, 'rpc_message_id', 'RPC result'),
    error,
    result: kwargs.result ?? null,
    ...(typeof metadata.trace === 'string' ? { trace: metadata.trace } : {}),
  };
}

export function encodeEventBlob(event: BusEvent): string {
  const doc = JSON.stringify({ kwargs: sorted(event.kwargs), metadata: { api_name: event.api, event_name: event.event, id: event.id, version: event.version } });
  return event.traceContext ? `${doc.slice(0, -1)}${traceTail(event.traceContext)}}` : doc;
}

export function decodeEventBlob(bytes: string | Uint8Array): BusEvent {
  const { kwargs, metadata, traceContext } = parseBlob(bytes, 'event');
  const version = metadata.version ?? 1;
  if (typeof version !== 'number' || !Number.isInteger(version)) throw new errors.SY_ERR_BUS_FRAME('event', 'metadata "version" is not an integer');
  return {
    id: requireString(metadata, 'id', 'event'),
    api: requireString(metadata, 'api_name', 'event'),
    event: requireString(metadata, 'event_name', 'event'),
    version,
    kwargs,
    ...(traceContext ? { traceContext } : {}),
  };
}
