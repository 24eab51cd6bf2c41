// Traces on any queue Transport (memory, AMQP, Redis), without the transport or the model
// knowing: send/publish/request put the current context in the message's headers (a
// PRODUCER or CLIENT span), consume/subscribe/serve start the handler inside a CONSUMER or
// SERVER span whose parent is what the headers carried, made current, so what the handler
// sends is its child. Headers travel as AMQP message headers and Redis stream fields.

import { SpanKind, context, type Context } from '@opentelemetry/api';
import type {
  Capabilities,
  ConsumeOptions,
  Delivery,
  DeliveryHandler,
  OutboundMessage,
  QueueOptions,
  Reply,
  RequestHandler,
  RequestOptions,
  Subscription,
  Transport,
} from '../transport.js';
import { overlay } from './overlay.js';
import { inSpan } from './spans.js';
import { TRACEPARENT, TRACESTATE, carrierOf, contextOf } from './w3c.js';

/** Message headers with the context of `ctx` added (none when there is no span). */
function withContext(message: OutboundMessage, ctx: Context): OutboundMessage {
  const carrier = carrierOf(ctx);
  return carrier ? { ...message, headers: { ...message.headers, ...carrier } } : message;
}

function parentOf(headers: Readonly<Record<string, string>>): Context {
  return contextOf(headers[TRACEPARENT], headers[TRACESTATE]);
}

export class TracingTransport implements Transport {
  constructor(readonly inner: Transport) {}

  get name(): string {
    return this.inner.name;
  }

  get capabilities(): Capabilities {
    return this.inner.capabilities;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  declareQueue(queue: string, options?: QueueOptions): Promise<void> {
    return this.inner.declareQueue(queue, options);
  }

  send(queue: string, message: OutboundMessage): Promise<void> {
    return inSpan({ name: `send ${queue}`, kind: SpanKind.PRODUCER, attributes: this.#attributes(queue, 'send') }, context.active(), (_s, ctx) =>
      this.inner.send(queue, withContext(message, ctx)));
  }

  publish(topic: string, message: OutboundMessage): Promise<void> {
    return inSpan({ name: `publish ${topic}`, kind: SpanKind.PRODUCER, attributes: this.#attributes(topic, 'send') }, context.active(), (_s, ctx) =>
      this.inner.publish(topic, withContext(message, ctx)));
  }

  consume(queue: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    return this.inner.consume(queue, this.#processing(queue, handler), options);
  }

  subscribe(topic: string, group: string, handler: DeliveryHandler, options: ConsumeOptions): Promise<Subscription> {
    return this.inner.subscribe(topic, group, this.#processing(topic, handler, group), options);
  }

  request(subject: string, message: OutboundMessage, options: RequestOptions): Promise<Reply> {
    return inSpan({ name: `request ${subject}`, kind: SpanKind.CLIENT, attributes: this.#attributes(subject, 'send') }, context.active(), (_s, ctx) =>
      this.inner.request(subject, withContext(message, ctx), options));
  }

  serve(subject: string, handler: RequestHandler): Promise<Subscription> {
    return this.inner.serve(subject, (request) =>
      inSpan({ name: `serve ${subject}`, kind: SpanKind.SERVER, attributes: this.#attributes(subject, 'process') }, parentOf(request.headers), () => handler(request)));
  }

  /** The handler run inside a CONSUMER span, child of the context the message carried. */
  #processing(source: string, handler: DeliveryHandler, group?: string): DeliveryHandler {
    return (delivery: Delivery) =>
      inSpan(
        {
          name: `process ${source}`,
          kind: SpanKind.CONSUMER,
          attributes: {
            ...this.#attributes(source, 'process'),
            'messaging.message.delivery_attempt': delivery.attempt,
            ...(group !== undefined ? { 'messaging.consumer.group.name': group } : {}),
          },
        },
        parentOf(delivery.headers),
        () => handler(delivery),
      );
  }

  #attributes(destination: string, operation: 'send' | 'process') {
    return { 'messaging.system': this.inner.name, 'messaging.destination.name': destination, 'messaging.operation.type': operation };
  }
}

const TRACED: ReadonlySet<PropertyKey> = new Set(['send', 'publish', 'consume', 'subscribe', 'request', 'serve']);

/** `inner` with its messaging traced; every other property is the transport's own (overlay.ts). */
export function traceQueues(inner: Transport): Transport {
  return overlay(inner, new TracingTransport(inner), TRACED);
}
