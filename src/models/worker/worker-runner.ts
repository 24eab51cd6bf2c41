// Runs one worker definition: consumes its inbound queue and, per message, strictly in
// this order: process → close handles → upload staged writes → delete staging → publish
// every result to every queue of its case → ack. Any failure publishes nothing further;
// the message is retried with backoff up to the policy's bound, then dead-lettered, and
// the worker goes on serving other messages (slingshot stops the process instead).

import { SwitchyardError, errors } from '../../errors.js';
import { SLINGSHOT_QUEUE_FLAGS, type ConfigSource, type QueueDeclaration } from '../../config/config-source.js';
import type { Logger } from '../../observability/logger.js';
import { warnLimiter, type WarnLimiter } from '../../observability/warn-limiter.js';
import { backoffMs, shouldRetry } from '../../runtime/retry.js';
import type { ObjectStore } from '../../storage/object-store.js';
import { requireCapabilities, type Delivery, type QueueOptions, type Subscription, type Transport } from '../../transports/transport.js';
import { encodeId, parseId, toId } from './ids.js';
import { RequestFiles, type ReadFileFn, type UploadedObject, type WriteFileFn } from './request-files.js';
import { RouteMap, describeCase } from './routes.js';
import type { DeadLetterKind, PublishedResult, WorkerEvent, WorkerListener } from './worker-events.js';
import type { CaseResult, ProcessContext, ProcessResult, WorkerDefinition } from './worker.js';

export interface WorkerEnvironment {
  readonly transport: Transport;
  readonly store: ObjectStore;
  readonly config: ConfigSource;
  readonly logger: Logger;
  /** Parent folder of the per-message staging folders; default the OS temp folder. */
  readonly stagingRoot?: string;
  /** Bytes of one output staged in memory before it spills to a file; default 1 MiB, 0 = always a file. */
  readonly stagingMemoryBytes?: number;
  readonly listeners?: readonly WorkerListener[];
  /**
   * How to declare the queues the configuration says nothing about (the process's settings:
   * flag, environment or settings file). Unset: an existing queue is used as it is and a
   * missing one is declared as slingshot declares it (non-durable, no arguments).
   */
  readonly queueDefaults?: QueueDeclaration;
}

export interface RunningWorker {
  readonly name: string;
  readonly inbound: string;
  /** Stops taking messages, lets the ones in flight finish, and returns. */
  stop(): Promise<void>;
}

export async function startWorker(definition: WorkerDefinition, env: WorkerEnvironment): Promise<RunningWorker> {
  requireCapabilities(env.transport, 'worker', ['queue']);
  const queueConfig = await env.config.queueConfig(definition.name);
  const runner = new WorkerRunner(definition, env, queueConfig.in, new RouteMap(queueConfig));
  await runner.start();
  return runner;
}

class WorkerRunner implements RunningWorker {
  private subscription: Subscription | undefined;
  readonly log: Logger;
  /** Warnings that can repeat once per message: rate-limited per kind, suppressed ones counted. */
  readonly warnings: WarnLimiter;
  private readonly listening: boolean;

  constructor(
    private readonly definition: WorkerDefinition,
    readonly env: WorkerEnvironment,
    readonly inbound: string,
    private readonly routes: RouteMap,
  ) {
    this.log = env.logger.child({ service: definition.name, queue: inbound });
    this.warnings = warnLimiter(this.log);
    this.listening = (env.listeners?.length ?? 0) > 0;
  }

  get name(): string {
    return this.definition.name;
  }

  async start(): Promise<void> {
    const { transport } = this.env;
    const outbound = this.routes.allQueues();
    // Declared at start with the flags configuration gives, so a queue that exists with
    // other flags fails here, naming the queue and the setting, never in the middle of a run.
    for (const queue of [this.inbound, ...outbound]) await transport.declareQueue(queue, await this.declarationOf(queue));
    this.subscription = await transport.consume(this.inbound, (d) => this.handle(d), { prefetch: this.definition.concurrency });
    this.emit({ type: 'started', service: this.name, queue: this.inbound, outbound });
  }

  /**
   * The configuration's flags for a queue, else the process's settings; when neither says
   * anything, a queue shared with slingshot is used as it exists, and one that does not
   * exist yet is declared with slingshot's flags, so slingshot services starting later
   * declare it without a conflict.
   */
  private async declarationOf(queue: string): Promise<QueueOptions> {
    const declared = (await this.env.config.queueDeclaration(queue)) ?? this.env.queueDefaults;
    if (declared) return { durable: declared.durable, arguments: declared.arguments };
    return { durable: SLINGSHOT_QUEUE_FLAGS.durable, arguments: SLINGSHOT_QUEUE_FLAGS.arguments, useExisting: true };
  }

  async stop(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    if (!subscription) return;
    await subscription.stop();
    this.warnings.flush();
    this.emit({ type: 'stopped', service: this.name, queue: this.inbound });
  }

  /** Never rejects: a failure to settle is logged, and the transport redelivers the message. */
  private async handle(delivery: Delivery): Promise<void> {
    try {
      await this.work(delivery);
    } catch (err) {
      this.warnings.warn('settle', { err }, 'could not settle a message; it will be redelivered (its results may be published again)');
    }
  }

  private async work(delivery: Delivery): Promise<void> {
    let id: bigint;
    try {
      id = parseId(delivery.body);
    } catch (err) {
      return this.deadLetter(delivery, undefined, 'bad_id', (err as Error).message);
    }
    const started = performance.now();
    if (this.listening) this.emit({ type: 'consumed', service: this.name, queue: this.inbound, id, attempt: delivery.attempt });
    const context = new MessageContext(this, id, delivery);
    let outcome: { routed: PublishedResult[]; dropped: PublishedResult[]; uploads: readonly UploadedObject[] };
    try {
      let returned = this.definition.process(id, context);
      if (isPromise(returned)) returned = await returned;
      const results = Array.isArray(returned) ? (returned as CaseResult[]) : await collectResults(returned);
      const { routed, dropped, unrouted } = this.route(results);
      if (unrouted) {
        await context.files.discard();
        return this.deadLetter(delivery, id, 'no_route', new errors.SY_ERR_NO_ROUTE(this.name, describeCase(unrouted.case)).message);
      }
      const uploads = context.usedFiles ? await context.files.finalize() : NO_UPLOADS;
      if (context.usedFiles) await context.files.discard();
      await this.publish(routed);
      outcome = { routed, dropped, uploads };
    } catch (err) {
      await context.files.discard().catch((e) => this.warnings.warn('staging', { err: e }, 'could not remove the staging folder'));
      return this.fail(delivery, id, asError(err), performance.now() - started);
    }
    // Outside the try: a failed ack must not count as a failed attempt (everything is
    // published already); handle() logs it and the broker redelivers.
    await delivery.ack();
    for (const result of outcome.dropped) {
      const caseText = describeCase(result.case);
      this.warnings.warn(`dropped ${caseText}`, { id: id.toString(), case: caseText, resultId: result.id.toString() }, 'no route for this case; result dropped (unroutedCases: "drop")');
    }
    if (this.listening) this.emit({ type: 'succeeded', service: this.name, queue: this.inbound, id, results: outcome.routed, uploads: outcome.uploads, dropped: outcome.dropped, durationMs: performance.now() - started });
  }

  /** Resolves every result's queues before anything is uploaded or published. */
  private route(results: CaseResult[]): { routed: PublishedResult[]; dropped: PublishedResult[]; unrouted?: { case: unknown } } {
    const routed: PublishedResult[] = [];
    const dropped: PublishedResult[] = [];
    for (const result of results) {
      if (!Array.isArray(result) || result.length !== 2) {
        throw new errors.SY_ERR_BAD_RESULT(`each result must be a [resultId, case] pair, got ${describeCase(result)}`);
      }
      const [rawId, caseValue] = result;
      const id = toId(rawId, 'result id');
      const queues = this.routes.queuesFor(caseValue);
      // A case routed to no queue at all counts as unrouted: nothing is dropped silently.
      if (queues && queues.length > 0) routed.push({ id, case: caseValue, queues });
      else if (this.definition.unroutedCases === 'drop') dropped.push({ id, case: caseValue, queues: [] });
      else return { routed, dropped, unrouted: { case: caseValue } };
    }
    return { routed, dropped };
  }

  /**
   * Every result to every queue of its case, one send at a time in order, so that a failed
   * send publishes nothing further; resolves when the transport holds them all.
   */
  private async publish(results: readonly PublishedResult[]): Promise<void> {
    const { transport } = this.env;
    for (const result of results) {
      const body = encodeId(result.id);
      for (const queue of result.queues) await transport.send(queue, { body });
    }
  }

  private async fail(delivery: Delivery, id: bigint, error: Error, durationMs: number): Promise<void> {
    const policy = this.definition.retry;
    const retry = shouldRetry(policy, delivery.attempt);
    const retryInMs = retry ? backoffMs(policy, delivery.attempt) : undefined;
    this.emit({ type: 'failed', service: this.name, queue: this.inbound, id, attempt: delivery.attempt, error, retryInMs, durationMs });
    if (retryInMs === undefined) {
      return this.deadLetter(delivery, id, 'max_attempts', `failed ${delivery.attempt} time(s), giving up: ${error.message}`);
    }
    if (this.env.transport.capabilities.delayedRequeue) {
      await delivery.nack({ requeue: true, delayMs: retryInMs });
    } else {
      // Without delayed requeue, hold the message (and its prefetch slot) through the backoff.
      await new Promise((resolve) => setTimeout(resolve, retryInMs));
      await delivery.nack({ requeue: true });
    }
  }

  private async deadLetter(delivery: Delivery, id: bigint | undefined, kind: DeadLetterKind, reason: string): Promise<void> {
    await delivery.nack({ requeue: false, reason });
    this.emit({ type: 'dead-lettered', service: this.name, queue: this.inbound, id, kind, reason });
  }

  private emit(event: WorkerEvent): void {
    for (const listener of this.env.listeners ?? []) {
      try {
        const returned: unknown = listener(event);
        // An async listener's rejection must not become an unhandled rejection (it would end the process).
        if (isPromise(returned)) returned.catch((err: unknown) => this.warnings.warn('listener', { err }, 'a worker event listener failed; ignored'));
      } catch (err) {
        this.warnings.warn('listener', { err }, 'a worker event listener threw; ignored');
      }
    }
  }
}

/**
 * What process gets for one message. Files and the per-message logger are made on first
 * use: a process that touches neither should not pay for them.
 */
class MessageContext implements ProcessContext {
  private requestFiles: RequestFiles | undefined;
  private messageLog: Logger | undefined;
  readonly attempt: number;
  readonly redelivered: boolean;

  constructor(
    private readonly runner: WorkerRunner,
    private readonly id: bigint,
    delivery: Delivery,
  ) {
    this.attempt = delivery.attempt;
    this.redelivered = delivery.redelivered;
  }

  get usedFiles(): boolean {
    return this.requestFiles !== undefined;
  }

  get files(): { finalize(): Promise<UploadedObject[]>; discard(): Promise<void> } {
    return this.requestFiles ?? NO_FILES;
  }

  // Users destructure `{ readFile, writeFile }`, so these must not need `this`; made on
  // first access, as most messages of a no-I/O worker never touch them.
  private readFn: ReadFileFn | undefined;
  private writeFn: WriteFileFn | undefined;
  get readFile(): ReadFileFn {
    return (this.readFn ??= (alias, id) => this.open().readFile(alias, id));
  }
  get writeFile(): WriteFileFn {
    return (this.writeFn ??= (alias, id) => this.open().writeFile(alias, id));
  }

  get log(): Logger {
    return (this.messageLog ??= this.runner.log.child({ id: this.id.toString() }));
  }

  private open(): RequestFiles {
    const { env, name } = this.runner;
    return (this.requestFiles ??= new RequestFiles({
      store: env.store,
      resolveBucket: (alias) => env.config.bucket(name, alias),
      requestId: this.id,
      ...(env.stagingRoot ? { stagingRoot: env.stagingRoot } : {}),
      ...(env.stagingMemoryBytes !== undefined ? { stagingMemoryBytes: env.stagingMemoryBytes } : {}),
    }));
  }
}

const NO_UPLOADS: readonly UploadedObject[] = [];
const NO_FILES = { finalize: async (): Promise<UploadedObject[]> => [], discard: async () => undefined };

/** Whatever process gave back (array, generator, async generator, nothing) → a list. */
async function collectResults(result: ProcessResult): Promise<CaseResult[]> {
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

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}

function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new SwitchyardError('SY_ERR_PROCESS', 'runtime', `process threw a non-Error value: ${describeCase(err)}`);
}
