// switchyardjs/worker (also the package root): the queue worker model (slingshot).
export { worker, isWorkerDefinition } from './worker.js';
export type { Case, CaseResult, ProcessContext, ProcessFn, ProcessResult, WorkerDefinition, WorkerOptions } from './worker.js';
export { startWorker } from './worker-runner.js';
export type { RunningWorker, WorkerEnvironment } from './worker-runner.js';
export type { ReadFileFn, ReadHandle, WriteFileFn, WriteHandle, UploadedObject } from './request-files.js';
export type { WorkerEvent, WorkerListener, PublishedResult, DeadLetterKind } from './worker-events.js';
export { parseId, encodeId, U64_MAX } from './ids.js';
