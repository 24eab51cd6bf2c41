// The task model (a Core engine service): declare with taskService(), serve with
// startTaskService() given an HTTP server (switchyard/transports/http) and object stores.
export { taskService, isTaskServiceDefinition } from './task-service.js';
export type {
  TaskServiceDeclaration, TaskServiceDefinition, FieldDeclaration, TagDeclaration, TaskInputFile, TaskOutputFile,
  TaskInputs, TaskOutputs, TaskContext, TaskProcessFn,
} from './task-service.js';
export { startTaskService, registrationBody, DEFAULT_TASK_SETTINGS } from './task-runner.js';
export type { TaskServiceSettings, TaskServiceEnvironment, RunningTaskService, TaskActivity } from './task-runner.js';
export type { TaskS3Settings, OpenStore } from './store-pool.js';
export type { RegistrationOutcome } from './registration.js';
export { TASK_STATUSES, MEDIA_TYPES, EXECUTION_UNIT_TAGS, DEFAULT_DOCS_URL, serviceTaskSchema } from './wire.js';
export type { TaskStatus, MediaType, ServiceTask, TaskUpdate, ServiceRegistration, FieldDescription, TagName, TagAcronym } from './wire.js';
export { mediaTypeOfKey, extensionOf } from './media-types.js';
export { parseUuid } from './uuid.js';
