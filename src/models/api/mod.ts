// The api model's face: declare APIs with zod, serve them, call and listen with types
// inferred from the declarations, on the memory transport or on Redis.
export { defineApi, isApi } from './define.js';
export type { Api, AnyApi, RpcDeclaration, EventDeclaration, ParamsOf, ResultOf } from './define.js';
export { createBus, connectBus, Bus } from './api-client.js';
export type { TypedBus, BusOptions, ApiClient, DynamicApiClient, RpcFunction, RpcRef } from './api-client.js';
export type { Implementation, RpcContext, BusCoreOptions, TransportChoice, RecentEvent } from './bus.js';
export type { EventHandle, EventHandler, EventContext, ListenOptions, Listener, EventRef } from './events.js';
export { RemoteError } from './remote-error.js';
export { schemaOfApi } from './api-schema.js';
export type { ApiSettings, ListenerSettings } from './settings.js';
export type { Interval, ScheduleOptions } from './scheduler.js';
export type { BusObserver } from './observer.js';
export { bytes, datetime, z } from '../../schema/mod.js';
export { apiService, isApiServiceDefinition } from './api-service.js';
export type { ApiServiceDefinition } from './api-service.js';
export { installStatePlugin, internalStateApi } from './plugins/state-plugin.js';
export type { StatePluginOptions } from './plugins/state-plugin.js';
export { installMetricsPlugin, internalMetricsApi } from './plugins/metrics-plugin.js';
