// The api model's face: declare APIs with zod, serve them, call and listen with types
// inferred from the declarations, on the memory transport or on Redis.
import { errors } from '../../errors.js';

export { defineApi, isApi } from './define.js';
export type { Api, AnyApi, RpcDeclaration, EventDeclaration, ParamsOf, ResultOf } from './define.js';
export { createBus, connectBus, Bus } from './api-client.js';
export type { TypedBus, BusOptions, ApiClient, DynamicApiClient, RpcFunction, RpcRef } from './api-client.js';
export type { Implementation, RpcContext, BusCoreOptions, TransportChoice, RecentEvent } from './bus.js';
export type { EventHandle, EventHandler, EventContext, ListenOptions, Listener, EventRef } from './events.js';
export { schemaOfApi } from './api-schema.js';
export type { ApiSettings, ListenerSettings, ApiModelSettings, ApiEntrySettings } from './settings.js';
export { apiSettingsSection } from './settings.js';
export type { Interval, ScheduleOptions } from './scheduler.js';
export { bytes, datetime, z } from '../../schema/mod.js';
export { apiService, isApiServiceDefinition } from './api-service.js';
export type { ApiServiceDefinition } from './api-service.js';
export { installStatePlugin, internalStateApi } from './plugins/state-plugin.js';
export type { StatePluginOptions } from './plugins/state-plugin.js';
export { installMetricsPlugin, internalMetricsApi } from './plugins/metrics-plugin.js';
export { runner } from './runner.js';
export { busConfigLayer, loadBusConfigLayer, lightbusConfigJsonSchema } from './lightbus-config-file.js';

/**
 * An RPC that failed on the serving side (the catalogue's SY_ERR_RPC_REMOTE): `remoteType`
 * (e.g. "ValueError"), `remoteMessage` and the remote `trace`. `err instanceof RemoteError`.
 */
export const RemoteError = errors.SY_ERR_RPC_REMOTE;
export type RemoteError = InstanceType<typeof errors.SY_ERR_RPC_REMOTE>;
