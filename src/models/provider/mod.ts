// switchyardjs/provider: task providers on unix sockets (mistifyio/provider).
export { provider, Provider } from './provider.js';
export type { ProviderOptions } from './provider.js';
export { ProviderConfig, loadProviderConfig, providerEnvName, DEFAULTS as PROVIDER_DEFAULTS, SCALAR_KEYS as PROVIDER_CONFIG_KEYS, GO_FLAG_KEYS as PROVIDER_GO_FLAG_KEYS } from './config.js';
export type { ProviderConfigData, ProviderConfigInput, TaskConfigData, LoadOptions as ProviderLoadOptions } from './config.js';
export { stream, StreamResult } from './task-handler.js';
export type { TaskHandler, TaskRequest, TaskContext } from './task-handler.js';
export { RequestTracker } from './request-tracker.js';
export type { Tracked, TrackerOptions } from './request-tracker.js';
export { CoordinatorClient, coordinatorClient, discoverProviders } from './coordinator-client.js';
export type { CoordinatorClientOptions, ProviderSocket, TaskResponse, RequestOptions as TaskRequestOptions } from './coordinator-client.js';
export { defineProvider, isProviderDefinition } from './define.js';
export type { ProviderDefinition } from './define.js';
