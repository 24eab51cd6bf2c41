// Tracing across hops with OpenTelemetry (docs/tracing.md). Loaded by the registry only when
// the `tracing` setting is on: off, nothing here (nor @opentelemetry/api) is loaded, nothing
// is wrapped, no header is added.

export { TracingTransport, traceQueues } from './tracing-transport.js';
export { TracingBus, traceBus } from './tracing-bus.js';
export { traceCall, traceServe } from './tracing-http.js';
export { sdkRegistered } from './spans.js';
export { carrierOf, contextOf } from './w3c.js';
export type { TraceContext } from './carrier.js';

/** What the registry logs, once, when tracing is on and no SDK was registered. */
export const NO_SDK_MESSAGE =
  'tracing is on but no OpenTelemetry SDK is registered: spans go nowhere. Register one before Switchyard starts, ' +
  'e.g. node --import ./otel.mjs (a file that starts @opentelemetry/sdk-node with an exporter); see docs/tracing.md';
