// switchyardjs/worker (also the package root): the queue worker model (slingshot).
// The worker model's public face. The runtime's side (runner.ts, settings.ts) is imported
// by the CLI directly: it is not part of what a user's module imports.
export { worker, isWorkerDefinition } from './worker.js';
export type { Case, CaseResult, ProcessContext, ProcessFn, ProcessResult, WorkerDefinition, WorkerOptions } from './worker.js';
export { startWorker, WorkerComponent } from './worker-component.js';
export type { WorkerEnvironment } from './worker-component.js';
export { DEAD_LETTER_KINDS } from './worker-report.js';
export type { DeadLetterKind } from './worker-report.js';
export type { ReadFileFn, ReadHandle, WriteFileFn, WriteHandle, UploadedObject } from './request-files.js';
export { parseId, encodeId, U64_MAX } from './ids.js';
