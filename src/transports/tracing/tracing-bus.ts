// Traces on the API model's bus, whatever carries it (Redis, the memory transport): a CLIENT
// span per call and a SERVER span per served call, a PRODUCER span per fired event and a
// CONSUMER span per event a listener handles. The context rides in the call's and the
// event's `traceContext`, which each bus transport writes where its peers ignore it (see
// src/protocols/lightbus/{blob,by-field,native-wire}.ts and docs/tracing.md).

import { SpanKind, context, type Attributes } from '@opentelemetry/api';
import type { BusEvent, BusTransport, CallOptions, EventDelivery, ListenSpec, RpcCall, RpcResult, RpcServer, ServeOptions } from '../bus/bus-transport.js';
import type { Subscription } from '../transport.js';
import { overlay } from './overlay.js';
import { inSpan } from './spans.js';
import { carrierOf, contextOf } from './w3c.js';

const rpcAttributes = (system: string, api: string, procedure: string): Attributes => ({ 'rpc.system': 'lightbus', 'rpc.service': api, 'rpc.method': procedure, 'messaging.system': system });
const eventAttributes = (system: string, api: string, event: string, operation: string): Attributes => ({
  'messaging.system': system, 'messaging.destination.name': `${api}.${event}`, 'messaging.operation.type': operation,
});

export class TracingBus {
  constructor(private readonly inner: BusTransport) {}

  call(call: RpcCall, options: CallOptions): Promise<RpcResult> {
    return inSpan({ name: `${call.api}.${call.procedure}`, kind: SpanKind.CLIENT, attributes: rpcAttributes(this.inner.name, call.api, call.procedure) }, context.active(), (_s, ctx) => {
      const traceContext = carrierOf(ctx);
      return this.inner.call(traceContext ? { ...call, traceContext } : call, options);
    });
  }

  serve(apis: readonly string[], server: RpcServer, options?: ServeOptions): Promise<Subscription> {
    return this.inner.serve(apis, (call) =>
      inSpan(
        { name: `${call.api}.${call.procedure}`, kind: SpanKind.SERVER, attributes: rpcAttributes(this.inner.name, call.api, call.procedure) },
        contextOf(call.traceContext?.traceparent, call.traceContext?.tracestate),
        () => server(call),
      ), options);
  }

  fire(event: BusEvent): Promise<void> {
    return inSpan({ name: `fire ${event.api}.${event.event}`, kind: SpanKind.PRODUCER, attributes: eventAttributes(this.inner.name, event.api, event.event, 'send') }, context.active(), (_s, ctx) => {
      const traceContext = carrierOf(ctx);
      return this.inner.fire(traceContext ? { ...event, traceContext } : event);
    });
  }

  listen(spec: ListenSpec, handler: (delivery: EventDelivery) => Promise<void>): Promise<Subscription> {
    return this.inner.listen(spec, (delivery) => {
      const { event } = delivery;
      return inSpan(
        {
          name: `listen ${event.api}.${event.event}`,
          kind: SpanKind.CONSUMER,
          attributes: { ...eventAttributes(this.inner.name, event.api, event.event, 'process'), 'messaging.consumer.group.name': spec.group, 'messaging.message.delivery_attempt': delivery.attempt },
        },
        contextOf(event.traceContext?.traceparent, event.traceContext?.tracestate),
        () => handler(delivery),
      );
    });
  }
}

const TRACED: ReadonlySet<PropertyKey> = new Set(['call', 'serve', 'fire', 'listen']);

/** `inner` with its calls and events traced; every other property is the bus's own. */
export function traceBus(inner: BusTransport): BusTransport {
  return overlay(inner, new TracingBus(inner), TRACED);
}
