// The acomm JSON shapes (SPECS.md §4.2), byte for byte as Go's encoding/json writes them:
//   Request  {"id","task","responsehook","args"}
//   Response {"id","result","stream_url","error"}   error is a string, "" = no error
// URL fields: Go has no JSON form for *url.URL, so it writes the struct as an object
// ({"Scheme":"unix",...,"Path":"/x.sock",...}). We write that object form so Go peers can
// read what we send, and read both it and a plain URL string.
// Integers beyond 2^53 in args and results are bigints, written and read exactly (exact-json.ts).

import { stringifyJson } from './exact-json.js';

/** A request as the program sees it: URLs as strings. */
export interface AcommRequest {
  readonly id: string;
  readonly task: string;
  /** unix:///path/to/hook.sock, http(s)://...; null when absent (an invalid request). */
  readonly responseHook: string | null;
  /** The args JSON value; null when absent. */
  readonly args: unknown;
}

export interface AcommResponse {
  readonly id: string;
  /** The result JSON value; null when there is none. */
  readonly result: unknown;
  /** unix:///path/to/stream.sock when the result is a byte stream. */
  readonly streamUrl: string | null;
  /** The error text; "" means success. */
  readonly error: string;
}

/** Go's url.URL as encoding/json writes it (field set of the Go release acomm was built with). */
export interface GoUrl {
  Scheme: string;
  Opaque: string;
  User: null;
  Host: string;
  Path: string;
  RawPath: string;
  RawQuery: string;
  Fragment: string;
}

/** A URL string in Go's struct form. User info is dropped (Go writes it as {} and loses it too). */
export function toGoUrl(url: string): GoUrl {
  const u = new URL(url);
  return {
    Scheme: u.protocol.replace(/:$/, ''),
    Opaque: '',
    User: null,
    Host: u.host,
    Path: decodeURIComponent(u.pathname),
    RawPath: '',
    RawQuery: u.search.replace(/^\?/, ''),
    Fragment: decodeURIComponent(u.hash.replace(/^#/, '')),
  };
}

const unixUrlCache = new Map<string, string>();

/** A URL field read from the wire: a string, Go's struct form, or null. Anything else is an error. */
export function urlFromWire(value: unknown, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    // The common case, a unix hook (every request carries one), from a cache keyed by its path.
    if (o.Scheme === 'unix' && typeof o.Path === 'string' && !o.Host && !o.Opaque && !o.RawPath && !o.RawQuery && !o.Fragment) {
      let url = unixUrlCache.get(o.Path);
      if (url === undefined) {
        url = `unix://${encodePath(o.Path)}`;
        if (unixUrlCache.size >= 64) unixUrlCache.clear();
        unixUrlCache.set(o.Path, url);
      }
      return url;
    }
    const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : '');
    const scheme = str('Scheme');
    if (scheme === '') throw new TypeError(`"${field}" has no Scheme`);
    if (str('Opaque') !== '') return `${scheme}:${str('Opaque')}`;
    const path = str('RawPath') || encodePath(str('Path'));
    const query = str('RawQuery') ? `?${str('RawQuery')}` : '';
    const fragment = str('Fragment') ? `#${encodeURIComponent(str('Fragment'))}` : '';
    return `${scheme}://${str('Host')}${path}${query}${fragment}`;
  }
  throw new TypeError(`"${field}" must be a URL string or object, got ${Array.isArray(value) ? 'an array' : typeof value}`);
}

/** The filesystem path of a unix:// URL (Go's RequestURI of it). */
export function unixPathOf(url: string): string {
  const u = new URL(url);
  if (u.protocol !== 'unix:') throw new TypeError(`${url} is not a unix:// URL`);
  return decodeURIComponent(u.pathname);
}

/** unix://{path} for an absolute socket path. */
export function unixUrl(path: string): string {
  return `unix://${encodePath(path)}`;
}

/** A path for a URL: encodeURI leaves "?" and "#" alone, which would end the path, so they are encoded too. */
function encodePath(path: string): string {
  return encodeURI(path).replace(/[?#]/g, (c) => encodeURIComponent(c));
}

const json = stringifyJson;
// A process sends to few hooks (its tracker's, a coordinator's) again and again: their Go
// form is kept rather than parsed anew per message. Bounded, so unique URLs cannot grow it.
const goUrlCache = new Map<string, string>();
function goUrlJson(url: string | null): string {
  if (url === null) return 'null';
  let json = goUrlCache.get(url);
  if (json === undefined) {
    json = JSON.stringify(toGoUrl(url));
    if (goUrlCache.size >= 64) goUrlCache.clear();
    goUrlCache.set(url, json);
  }
  return json;
}

/** A request's JSON in Go's field order. */
export function encodeRequest(req: AcommRequest): string {
  return `{"id":${JSON.stringify(req.id)},"task":${JSON.stringify(req.task)},"responsehook":${goUrlJson(req.responseHook)},"args":${json(req.args)}}`;
}

/** A response's JSON in Go's field order. */
export function encodeResponse(res: AcommResponse): string {
  return `{"id":${JSON.stringify(res.id)},"result":${json(res.result)},"stream_url":${goUrlJson(res.streamUrl)},"error":${JSON.stringify(res.error)}}`;
}

/** The ack of a request: encodeResponse(replyTo(id, error)), written directly (one per request). */
export function encodeAck(id: string, error = ''): string {
  return `{"id":${JSON.stringify(id)},"result":null,"stream_url":null,"error":${error === '' ? '""' : JSON.stringify(error)}}`;
}

/** The empty Response{} a response listener acks with. */
export const EMPTY_RESPONSE: AcommResponse = { id: '', result: null, streamUrl: null, error: '' };

/** The ack or error reply to a request: no result, no stream. */
export function replyTo(id: string, error = ''): AcommResponse {
  return { id, result: null, streamUrl: null, error };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Reads a parsed JSON value as a Request; wrong field types throw (Go's Unmarshal fails the same way). */
export function decodeRequest(value: unknown): AcommRequest {
  if (!isObject(value)) throw new TypeError(`a request must be a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  for (const k of ['id', 'task'] as const) {
    if (value[k] !== undefined && value[k] !== null && typeof value[k] !== 'string') throw new TypeError(`"${k}" must be a string, got ${typeof value[k]}`);
  }
  return {
    id: (value.id as string | undefined) ?? '',
    task: (value.task as string | undefined) ?? '',
    responseHook: urlFromWire(value.responsehook, 'responsehook'),
    args: value.args ?? null,
  };
}

/** Go's Request.Validate(): the same three checks and texts. Returns "" when valid. */
export function validateRequest(req: AcommRequest): string {
  if (req.id === '') return 'missing id';
  if (req.task === '') return 'missing task';
  if (req.responseHook === null) return 'missing response hook';
  return '';
}

/** Reads a parsed JSON value as a Response. */
export function decodeResponse(value: unknown): AcommResponse {
  if (!isObject(value)) throw new TypeError(`a response must be a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
  if (value.id !== undefined && value.id !== null && typeof value.id !== 'string') throw new TypeError(`"id" must be a string, got ${typeof value.id}`);
  const error = value.error;
  if (error !== undefined && error !== null && typeof error !== 'string') throw new TypeError(`"error" must be a string, got ${typeof error}`);
  return {
    id: (value.id as string | undefined) ?? '',
    result: value.result ?? null,
    streamUrl: urlFromWire(value.stream_url, 'stream_url'),
    error: (error as string | undefined) ?? '',
  };
}
