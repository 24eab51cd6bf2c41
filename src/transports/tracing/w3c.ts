// W3C Trace Context (traceparent, tracestate) written by hand over @opentelemetry/api, so
// the wire format does not depend on which propagator a user registered (or none): every
// wire that carries context carries exactly these two values.

import { ROOT_CONTEXT, TraceFlags, createTraceState, isSpanContextValid, trace, type Context } from '@opentelemetry/api';
import { MAX_TRACESTATE } from './carrier.js';

/** The context as it travels: `traceparent` and, when there is one, `tracestate`. */
export type TraceCarrier = { traceparent: string; tracestate?: string };

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

const PARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The carrier of the span current in `ctx`, or undefined when there is none (nothing is added then). */
export function carrierOf(ctx: Context): TraceCarrier | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !isSpanContextValid(sc)) return undefined;
  const flags = (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00';
  const carrier: TraceCarrier = { traceparent: `00-${sc.traceId}-${sc.spanId}-${flags}` };
  const state = sc.traceState?.serialize();
  if (state) carrier.tracestate = state;
  return carrier;
}

/**
 * The remote parent a peer sent, as a context to start a span in; ROOT_CONTEXT when there
 * is none or it is not valid W3C (a bad value from a peer starts a new trace, nothing more).
 */
export function contextOf(traceparent: unknown, tracestate: unknown): Context {
  if (typeof traceparent !== 'string') return ROOT_CONTEXT;
  const m = PARENT.exec(traceparent.trim());
  // Version ff is forbidden; version 00 has nothing after the flags.
  if (!m || m[1] === 'ff' || (m[1] === '00' && m[5] !== undefined)) return ROOT_CONTEXT;
  const sc = {
    traceId: m[2]!,
    spanId: m[3]!,
    traceFlags: parseInt(m[4]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
    ...(typeof tracestate === 'string' && tracestate.length > 0 && tracestate.length <= MAX_TRACESTATE
      ? { traceState: createTraceState(tracestate) }
      : {}),
  };
  if (!isSpanContextValid(sc)) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, sc);
}
