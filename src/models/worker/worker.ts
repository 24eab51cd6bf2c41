// The worker model's face (slingshot's Microservice): a name and a `process` function.
// `worker()` only describes the service; its component (worker-component.ts), made by the
// model's runner (runner.ts), brings it to life on whatever transport, store and
// configuration the runtime provides.

import { errors } from '../../errors.js';
import type { RetryPolicy } from '../../runtime/retry.js';
import { retryPolicy } from '../../runtime/retry.js';
import { validateName } from '../../transports/names.js';
import type { Logger } from '../../observability/logger.js';
import { markDefinition, modelOf } from '../../runtime/model.js';
import type { ReadFileFn, WriteFileFn } from './request-files.js';

/** A routing case: a bool, an integer or a string (typed: true, 1 and "1" differ). */
export type Case = boolean | number | bigint | string;
/** One result: the id to send on and the case that picks its queues. */
export type CaseResult = readonly [resultId: bigint | number, caseValue: Case];

export type ProcessResult =
  | Iterable<CaseResult>
  | AsyncIterable<CaseResult>
  | void;

export interface ProcessContext {
  /** A readable stream of object `id` in the bucket `alias` stands for. */
  readonly readFile: ReadFileFn;
  /** A staged write of object `id` in the bucket `alias` stands for; uploaded after process returns. */
  readonly writeFile: WriteFileFn;
  /** 1 on the first delivery; more when this message is being retried or was redelivered. */
  readonly attempt: number;
  readonly redelivered: boolean;
  /** A logger carrying the service, the queue and this message's id. */
  readonly log: Logger;
}

export type ProcessFn = (id: bigint, context: ProcessContext) => ProcessResult | Promise<ProcessResult>;

export interface WorkerOptions {
  /** Messages processed at once (the inbound prefetch). Default 1, as slingshot. */
  readonly concurrency?: number;
  readonly retry?: Partial<RetryPolicy>;
  /**
   * A result whose case has no route: "dead-letter" (default) sends the inbound message to
   * the dead-letter queue; "drop" logs a warning and skips that result.
   */
  readonly unroutedCases?: 'dead-letter' | 'drop';
}

export interface WorkerDefinition {
  readonly kind: 'worker';
  readonly name: string;
  readonly process: ProcessFn;
  readonly concurrency: number;
  readonly retry: RetryPolicy;
  readonly unroutedCases: 'dead-letter' | 'drop';
}

export function worker(name: string, process: ProcessFn, options: WorkerOptions = {}): WorkerDefinition {
  validateName('service', name);
  if (typeof process !== 'function') throw new errors.SY_ERR_USAGE(`worker("${name}", process): process must be a function (id, { readFile, writeFile }) => results`);
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new errors.SY_ERR_SETTINGS(`worker "${name}": concurrency must be an integer ≥ 1, got ${concurrency}`);
  }
  const unroutedCases = options.unroutedCases ?? 'dead-letter';
  if (unroutedCases !== 'dead-letter' && unroutedCases !== 'drop') {
    throw new errors.SY_ERR_SETTINGS(`worker "${name}": unroutedCases must be "dead-letter" or "drop", got ${JSON.stringify(unroutedCases)}`);
  }
  // Marked for the runtime (`switchyard run`/`dev` sort definitions by model); `kind` stays meanwhile.
  return markDefinition({ kind: 'worker', name, process, concurrency, retry: retryPolicy(options.retry), unroutedCases }, 'worker');
}

export function isWorkerDefinition(value: unknown): value is WorkerDefinition {
  return modelOf(value) === 'worker' || (typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'worker');
}
