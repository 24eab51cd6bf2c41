// switchyardjs/provider: task providers on unix sockets (mistifyio/provider).
export { provider, Provider, RESPONSE_HOOK_OUTPUT, STREAM_OUTPUT } from './provider.js';
export type { ProviderOptions } from './provider.js';
export {
  providerSettingsSection, providerSettings, providerConfigFileLayer, loadProviderSettings, loadProviderConfig, PROVIDER_SETTING_KEYS, PROVIDER_FLAG_KEYS,
  GO_FLAG_KEYS as PROVIDER_GO_FLAG_KEYS, CONFIG_FILE_ENV as PROVIDER_CONFIG_FILE_ENV,
} from './settings.js';
export type { ProviderSettings, ProviderSettingsInput, TaskSettings, LoadProviderSettingsOptions } from './settings.js';
export { ProviderLayout } from './layout.js';
export { runner } from './runner.js';
export { ProviderComponent } from './component.js';
export type { ProviderComponentOptions } from './component.js';
export { stream, StreamResult } from './task-handler.js';
export type { TaskHandler, TaskRequest, TaskContext } from './task-handler.js';
export { RequestTracker } from './request-tracker.js';
export type { Tracked, TrackerOptions } from './request-tracker.js';
export { CoordinatorClient, coordinatorClient, discoverProviders } from './coordinator-client.js';
export type { CoordinatorClientOptions, ProviderSocket, TaskResponse, RequestOptions as TaskRequestOptions } from './coordinator-client.js';
export { defineProvider, isProviderDefinition } from './define.js';
export type { ProviderDefinition } from './define.js';
