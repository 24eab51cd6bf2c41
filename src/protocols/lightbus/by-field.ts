// Lightbus's by-field serializer for events on Redis streams (SPECS.md §5.1): metadata as
// plain fields (id, api_name, event_name, version), each parameter as a field ":{name}"
// holding its JSON. The code, not the RFC, is authoritative: no colon on metadata.

import { errors } from '../../errors.js';
import type { BusEvent, JsonValue, Kwargs } from '../../transports/bus/bus-transport.js';
import { sortedJson } from '../../transports/bus/sorted-json.js';
import { parseTraceContext, traceContextJson, type TraceContext } from '../../transports/tracing/carrier.js';

export function eventToFields(event: BusEvent): string[] {
  const fields = ['id', event.id, 'api_name', event.api, 'event_name', event.event, 'version', String(event.version)];
  for (const key of Object.keys(event.kwargs).sort()) fields.push(`:${key}`, sortedJson(event.kwargs[key]!));
  // The trace context goes in the field named "": Lightbus's by-field deserializer skips
  // empty names (`if not k: continue`), and any other name would become a keyword argument
  // of its EventMessage (a TypeError) or a parameter of the listener.
  if (event.traceContext) fields.push('', traceContextJson(event.traceContext));
  return fields;
}

/** True for Lightbus's no-op entry `{"": ""}`, written to make a stream exist. */
export function isNoop(fields: readonly string[]): boolean {
  return fields.length === 2 && fields[0] === '' && fields[1] === '';
}

export function fieldsToEvent(fields: readonly string[]): BusEvent {
  const metadata: Record<string, string> = {};
  const kwargs: Kwargs = {};
  let traceContext: TraceContext | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    if (name === '') {
      traceContext = value === '' ? undefined : parseTraceContext(value);
      continue;
    }
    if (name.startsWith(':')) {
      // ":__proto__" would set the prototype of the parameters, not a parameter: an entry
      // holding it would pass as one without it (issue 17 #11). No handler can take it.
      if (name === ':__proto__') throw new errors.SY_ERR_BUS_FRAME('event', 'field ":__proto__" is not a parameter name');
      let parsed: JsonValue;
      try {
        parsed = JSON.parse(value) as JsonValue;
      } catch {
        throw new errors.SY_ERR_BUS_FRAME('event', `field "${name}" is not JSON`);
      }
      kwargs[name.slice(1)] = parsed;
    } else if (name !== '__proto__') metadata[name] = value;
  }
  for (const key of ['id', 'api_name', 'event_name']) {
    if (!metadata[key]) throw new errors.SY_ERR_BUS_FRAME('event', `field "${key}" is missing`);
  }
  const version = metadata.version === undefined ? 1 : Number(metadata.version);
  if (!Number.isInteger(version)) throw new errors.SY_ERR_BUS_FRAME('event', 'field "version" is not an integer');
  return { id: metadata.id!, api: metadata.api_name!, event: metadata.event_name!, version, kwargs, ...(traceContext ? { traceContext } : {}) };
}
