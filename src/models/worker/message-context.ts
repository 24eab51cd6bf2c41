// What `process` gets for one message (its second argument), and what it may give back.
// Files and the per-message logger are made on first use: a process that touches neither
// does not pay for them.

import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Delivery } from '../../transports/transport.js';
import { RequestFiles, type ReadFileFn, type RequestFilesOptions, type UploadedObject, type WriteFileFn } from './request-files.js';
import { describeCase } from './routes.js';
import type { ReceivedMark } from './worker-report.js';
import type { CaseResult, ProcessContext, ProcessResult } from './worker.js';

/** What every message of one worker shares: its logger and how its files are reached. */
export interface MessageContextDeps {
  /** The worker's logger (service and queue); a message's adds its id. */
  readonly log: Logger;
  readonly files: Omit<RequestFilesOptions, 'requestId'>;
}

/** The staged writes of a message, or nothing to do when it touched no file. */
export interface MessageFiles {
  finalize(): Promise<UploadedObject[]>;
  discard(): Promise<void>;
}

const NO_FILES: MessageFiles = { finalize: async () => [], discard: async () => undefined };

/** What a message makes only when process asks for it. */
interface OnDemand {
  files?: RequestFiles;
  log?: Logger;
  readFile?: ReadFileFn;
  writeFile?: WriteFileFn;
}

/** When a message came in and its "received" event: kept only when someone listens. */
export interface MessageTiming {
  readonly started: number;
  readonly mark: ReceivedMark | undefined;
}

/**
 * process's context for one message, and the worker's own record of it (its id, delivery
 * and timing, which are not part of ProcessContext): one object a message, carried across
 * the handler's awaits instead of five slots of its async frame.
 */
export class MessageContext implements ProcessContext {
  // One slot for everything made on demand: a context is allocated per message, and each
  // field costs 8 bytes of it whether used or not.
  private onDemand: OnDemand | undefined;
  timing: MessageTiming | undefined = undefined;

  /** Private for real (not only to TypeScript): process gets this object, and must not ack or nack the message itself. */
  readonly #delivery: Delivery;

  constructor(
    private readonly deps: MessageContextDeps,
    readonly id: bigint,
    delivery: Delivery,
  ) {
    this.#delivery = delivery;
  }

  /** The worker's way to its message's delivery (not on the object process sees). */
  static deliveryOf(context: MessageContext): Delivery {
    return context.#delivery;
  }

  get attempt(): number {
    return this.#delivery.attempt;
  }

  get redelivered(): boolean {
    return this.#delivery.redelivered;
  }

  get usedFiles(): boolean {
    return this.onDemand?.files !== undefined;
  }

  get files(): MessageFiles {
    return this.onDemand?.files ?? NO_FILES;
  }

  // Users destructure `{ readFile, writeFile }`, so these must not need `this`; made on
  // first access, as most messages of a no-I/O worker never touch them.
  get readFile(): ReadFileFn {
    const made = (this.onDemand ??= {});
    return (made.readFile ??= (alias, id) => this.open().readFile(alias, id));
  }
  get writeFile(): WriteFileFn {
    const made = (this.onDemand ??= {});
    return (made.writeFile ??= (alias, id) => this.open().writeFile(alias, id));
  }

  get log(): Logger {
    const made = (this.onDemand ??= {});
    return (made.log ??= this.deps.log.child({ id: this.id.toString() }));
  }

  private open(): RequestFiles {
    const made = (this.onDemand ??= {});
    return (made.files ??= new RequestFiles({ ...this.deps.files, requestId: this.id }));
  }
}

/** Whatever process gave back (array, generator, async generator, nothing) → a list. */
export async function collectResults(result: ProcessResult): Promise<CaseResult[]> {
  if (result === undefined || result === null) return [];
  if (typeof (result as AsyncIterable<CaseResult>)[Symbol.asyncIterator] === 'function') {
    const out: CaseResult[] = [];
    for await (const item of result as AsyncIterable<CaseResult>) out.push(item);
    return out;
  }
  if (Array.isArray(result)) return result as CaseResult[];
  if (typeof (result as Iterable<CaseResult>)[Symbol.iterator] === 'function' && typeof result !== 'string') {
    return [...(result as Iterable<CaseResult>)];
  }
  throw new errors.SY_ERR_BAD_RESULT(`got ${describeCase(result)}`);
}

export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}

/** What process threw, as an Error (a thrown string or object becomes SY_ERR_PROCESS). */
export function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new errors.SY_ERR_PROCESS(describeCase(err));
}
