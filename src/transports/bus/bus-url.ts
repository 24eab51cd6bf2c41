// A bus transport's own settings carried in its URL, so that one string in the registry's
// vocabulary says everything about a transport (the registry opens one transport per
// distinct string): `redis://host:6379/0?stream_use=per_event&max_stream_length=none`.
// The names are Lightbus's transport-level settings (SPECS.md §5.5); a Lightbus bus config's
// event/rpc/result transport becomes such a URL (models/api/lightbus-config-file.ts).

import { errors, redactUrl } from '../../errors.js';

export interface BusUrlOptions {
  /** Lightbus stream_use: one stream per API (default) or per event. */
  readonly streamUse?: 'per_api' | 'per_event';
  /** Lightbus max_stream_length: streams trimmed to about this many entries; null never. */
  readonly maxStreamLength?: number | null;
  /** Lightbus result_ttl: seconds a result waits for its caller. */
  readonly resultTtlS?: number;
  /** Lightbus's transport-level rpc_timeout: seconds a call's expiry key lives. */
  readonly rpcExpiryS?: number;
}

const PARAMS = { stream_use: 'streamUse', max_stream_length: 'maxStreamLength', result_ttl: 'resultTtlS', rpc_timeout: 'rpcExpiryS' } as const;

/** `url` with the options as query parameters (Lightbus's names); options left unset add nothing. */
export function busUrlWith(url: string, options: BusUrlOptions): string {
  const params: string[] = [];
  if (options.streamUse !== undefined) params.push(`stream_use=${options.streamUse}`);
  if (options.maxStreamLength !== undefined) params.push(`max_stream_length=${options.maxStreamLength === null ? 'none' : options.maxStreamLength}`);
  if (options.resultTtlS !== undefined) params.push(`result_ttl=${options.resultTtlS}`);
  if (options.rpcExpiryS !== undefined) params.push(`rpc_timeout=${options.rpcExpiryS}`);
  if (params.length === 0) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${params.join('&')}`;
}

/**
 * Splits a bus transport's URL into the URL its connections use (the bus parameters
 * removed; others, such as ioredis's own, stay) and the options. Throws SY_ERR_SETTINGS
 * naming the parameter and the URL (without credentials) for a value it cannot use.
 */
export function busOptionsOfUrl(spec: string): { readonly url: string; readonly options: BusUrlOptions } {
  const at = spec.indexOf('?');
  if (at < 0) return { url: spec, options: {} };
  const kept: string[] = [];
  const options: { -readonly [K in keyof BusUrlOptions]: BusUrlOptions[K] } = {};
  const bad = (name: string, value: string, expected: string) =>
    new errors.SY_ERR_SETTINGS(`transport ${redactUrl(spec.slice(0, at))}: query parameter ${name}=${JSON.stringify(value)} is not valid; expected ${expected}`);
  for (const pair of spec.slice(at + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
    if (!(name in PARAMS)) {
      kept.push(pair);
      continue;
    }
    if (name === 'stream_use') {
      if (value !== 'per_api' && value !== 'per_event') throw bad(name, value, 'per_api or per_event');
      options.streamUse = value;
    } else if (name === 'max_stream_length') {
      if (value === 'none' || value === 'null') options.maxStreamLength = null;
      else if (/^[1-9]\d*$/.test(value)) options.maxStreamLength = Number(value);
      else throw bad(name, value, 'a whole number ≥ 1, or none');
    } else {
      const n = Number(value);
      if (!(n > 0) || !Number.isFinite(n)) throw bad(name, value, 'a number of seconds > 0');
      if (name === 'result_ttl') options.resultTtlS = Math.ceil(n);
      else options.rpcExpiryS = n;
    }
  }
  return { url: kept.length > 0 ? `${spec.slice(0, at)}?${kept.join('&')}` : spec.slice(0, at), options };
}
