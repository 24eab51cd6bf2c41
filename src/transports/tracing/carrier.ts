// The trace context as frames carry it (no @opentelemetry/api here: the codecs import this
// whether tracing is on or not, and loading nothing is what "off" costs).

/** W3C Trace Context: `traceparent` and, when there is one, `tracestate`. */
export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** Longest tracestate taken from a peer (W3C: 32 members; vendors keep it under 512 bytes). */
export const MAX_TRACESTATE = 512;
const MAX_TRACEPARENT = 128;

/** A trace context read from a peer's frame; anything else (wrong types, too long) is no context. */
export function traceContextOf(value: unknown): TraceContext | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { traceparent, tracestate } = value as Record<string, unknown>;
  if (typeof traceparent !== 'string' || traceparent.length > MAX_TRACEPARENT) return undefined;
  return typeof tracestate === 'string' && tracestate.length > 0 && tracestate.length <= MAX_TRACESTATE ? { traceparent, tracestate } : { traceparent };
}

/** The JSON text of a trace context, keys in a fixed order. */
export function traceContextJson(tc: TraceContext): string {
  return tc.tracestate === undefined
    ? `{"traceparent":${JSON.stringify(tc.traceparent)}}`
    : `{"traceparent":${JSON.stringify(tc.traceparent)},"tracestate":${JSON.stringify(tc.tracestate)}}`;
}

/** Reads traceContextJson's text; undefined when it is not one. */
export function parseTraceContext(text: string): TraceContext | undefined {
  try {
    return traceContextOf(JSON.parse(text));
  } catch {
    return undefined;
  }
}
