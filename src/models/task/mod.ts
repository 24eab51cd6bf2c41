// The task model (a Core engine service): declare with taskService(); `runner` serves the
// definitions on the runtime (switchyard run), with the "task" settings section.
export { taskService, isTaskServiceDefinition } from './task-service.js';
export type {
  TaskServiceDeclaration, TaskServiceDefinition, FieldDeclaration, TagDeclaration, TaskInputFile, TaskOutputFile,
  TaskInputs, TaskOutputs, TaskContext, TaskProcessFn,
} from './task-service.js';
export { runner } from './runner.js';
export { TaskServiceComponent } from './task-service-component.js';
export type { TaskServiceParts } from './task-service-component.js';
export { taskSettingsSection, taskServiceOptions } from './settings.js';
export type { TaskSettings, TaskServiceOptions } from './settings.js';
export { parseDotEnv, dotEnvLayer, dotEnvLayers } from './dot-env.js';
export { registrationBody } from './registration.js';
export type { RegistrationOutcome } from './registration.js';
export type { TaskS3Settings, OpenStore } from './store-pool.js';
export { s3StoreOpener } from './s3-stores.js';
export { TASK_EDGES, REJECT_REASONS } from './task-events.js';
export type { RejectReason } from './task-events.js';
export { TASK_STATUSES, MEDIA_TYPES, EXECUTION_UNIT_TAGS, DEFAULT_DOCS_URL, serviceTaskSchema } from './wire.js';
export type { TaskStatus, MediaType, ServiceTask, TaskUpdate, ServiceRegistration, FieldDescription, TagName, TagAcronym } from './wire.js';
export { mediaTypeOfKey, extensionOf } from './media-types.js';
export { parseUuid } from './uuid.js';
export { resolveTaskSettings, taskFlagLayer, TASK_FLAGS } from './resolve-settings.js';
