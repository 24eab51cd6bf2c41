// The one place Switchyard starts spans: a span made current around a piece of work, ended
// when it settles, marked as an error when it throws. The tracer comes from whatever SDK the
// user registered (through @opentelemetry/api's global provider); without one every span is
// a no-op.

import { ProxyTracerProvider, SpanStatusCode, context, trace, type Attributes, type Context, type Span, type SpanKind } from '@opentelemetry/api';

const tracer = trace.getTracer('switchyard');

export interface SpanSpec {
  readonly name: string;
  readonly kind: SpanKind;
  readonly attributes?: Attributes;
}

/** Runs `work` inside a new span, child of `parent`, made current (what `work` sends is its child). */
export async function inSpan<T>(spec: SpanSpec, parent: Context, work: (span: Span, ctx: Context) => T | Promise<T>): Promise<T> {
  const span = tracer.startSpan(spec.name, { kind: spec.kind, ...(spec.attributes ? { attributes: spec.attributes } : {}) }, parent);
  const ctx = trace.setSpan(parent, span);
  try {
    return await context.with(ctx, work, undefined, span, ctx);
  } catch (error) {
    markFailed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

export function markFailed(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, ...(error instanceof Error ? { message: error.message } : {}) });
}

/** Whether a tracer provider was registered (the API's global provider has a delegate). */
export function sdkRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider ? provider.getDelegateTracer('switchyard') !== undefined : true;
}
