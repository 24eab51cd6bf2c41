// Lightbus's metrics plugin (SPECS.md §5.7): an event on API `internal.metrics` for each
// RPC sent, received, answered and answer received, and each event fired, received and
// processed, with the timestamp and the service and process names. Events about
// `internal.metrics` itself are not reported (that would never end).

import { z } from 'zod';
import { defineApi } from '../define.js';
import type { Bus } from '../api-client.js';
import { toBus } from '../codec.js';
import { TAPS } from '../taps.js';

const common = { timestamp: z.number(), service_name: z.string(), process_name: z.string() };
const rpc = { ...common, id: z.string(), api_name: z.string(), procedure_name: z.string() };
const event = { ...common, event_id: z.string(), api_name: z.string(), event_name: z.string(), kwargs: z.record(z.string(), z.unknown()) };

export const internalMetricsApi = defineApi({
  name: 'internal.metrics',
  events: {
    rpc_call_sent: { params: z.object({ ...rpc, kwargs: z.record(z.string(), z.unknown()) }) },
    rpc_call_received: { params: z.object(rpc) },
    rpc_response_sent: { params: z.object({ ...rpc, result: z.unknown() }) },
    rpc_response_received: { params: z.object(rpc) },
    event_fired: { params: z.object(event) },
    event_received: { params: z.object(event) },
    event_processed: { params: z.object(event) },
  },
});

const METRICS = internalMetricsApi.name;

export function installMetricsPlugin(bus: Bus): void {
  bus.declare(internalMetricsApi);
  const stamp = () => ({ timestamp: Date.now() / 1000, service_name: bus.serviceName, process_name: bus.processName });
  const send = (name: keyof typeof internalMetricsApi.events, params: Record<string, unknown>) => {
    if (!bus.running) return;
    bus.fire(METRICS, name, { ...stamp(), ...params }).catch((err: unknown) => bus.logger.warn({ err, metric: name }, 'a metrics event could not be fired'));
  };
  const kwargs = (params: unknown) => toBus(params ?? {}) as Record<string, unknown>;
  // Lightbus's metrics events carry kwargs and results, which the observer stream never
  // carries: they come through the bus's payload tap (taps.ts).
  bus[TAPS].add({
    called: (api, procedure, params, id) => api !== METRICS && send('rpc_call_sent', { id, api_name: api, procedure_name: procedure, kwargs: kwargs(params) }),
    executing: (api, procedure, _params, id) => api !== METRICS && send('rpc_call_received', { id, api_name: api, procedure_name: procedure }),
    responding: (api, procedure, id, result) => api !== METRICS && send('rpc_response_sent', { id, api_name: api, procedure_name: procedure, result: toBus(result) }),
    resultReceived: (api, procedure, id) => api !== METRICS && send('rpc_response_received', { id, api_name: api, procedure_name: procedure }),
    fired: (api, name, params, id) => api !== METRICS && send('event_fired', { event_id: id, api_name: api, event_name: name, kwargs: kwargs(params) }),
    eventReceived: (api, name, params, _listener, id) => api !== METRICS && send('event_received', { event_id: id, api_name: api, event_name: name, kwargs: kwargs(params) }),
    eventHandled: (api, name, params, _listener, id) => api !== METRICS && send('event_processed', { event_id: id, api_name: api, event_name: name, kwargs: kwargs(params) }),
  });
}
