// switchyardjs/service: service_framework's model (connections and states over message
// sockets, wire-compatible with the Python original). See README "Services with connections and states".
export { service, isServiceDefinition, replyer, subscriber, requester, publisher, externalRequest } from './definition.js';
export type {
  Args, Config, StatesView, ToSend, ToSendOf, TypedToSend, SendArgsOf, ReplyOf, Handler, ArgsModel, ReturnModel, ArgsOf, ReturnOf,
  ReplyerModel, SubscriberModel, RequesterModel, PublisherModel, ExternalRequestModel,
  InConnectionModel, OutConnectionModel, InStateModel, OutStateModel, ConnectionModels, StateModels,
  ConfigModel, Addresses, FlatAddresses, ServiceDefinition, ServiceInput,
} from './definition.js';
export { t, argsProblems, describeSpec } from './type-grammar.js';
export type { TypeSpec, InferSpec, InferArgs } from './type-grammar.js';
export { runner } from './runner.js';
export { ServiceComponent } from './component.js';
export type { RunningService, ServiceComponentOptions } from './component.js';
export { startService } from './start-service.js';
export type { ServiceEnvironment } from './start-service.js';
export { serviceSettingsSection, serviceFrameworkLayer, pairsToConfig } from './settings.js';
export type { ServiceSettings, ServiceFrameworkFiles } from './settings.js';
export { setupServiceConfig } from './startup.js';
export type { RejectionKind } from './reporter.js';
export { applyDelta, DeltaStateIn, DeltaStateOut, DELTA_STATE_ARGS } from './delta-state.js';
export { workflowIds } from './workflow-ids.js';
export * from './wire/mod.js';
export { normalizeAddresses } from './addresses.js';
