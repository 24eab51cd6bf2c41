// What a worker does with one delivery, strictly in this order: parse the id → process →
// route every result → close handles → upload the staged writes → delete the staging →
// publish every result to every queue of its case → ack. Any failure publishes nothing
// further: the message goes back with backoff up to the retry policy's bound, then to the
// dead-letter queue, and the worker goes on serving other messages (slingshot stops the
// process instead). Each step is reported on the observer stream (worker-report.ts).

import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { WarnLimiter } from '../../observability/warn-limiter.js';
import { backoffMs, shouldRetry } from '../../runtime/retry.js';
import type { Delivery, Transport } from '../../transports/transport.js';
import { encodeId, parseId, toId } from './ids.js';
import { asError, collectResults, isPromise, MessageContext, type MessageContextDeps, type MessageTiming } from './message-context.js';
import type { UploadedObject } from './request-files.js';
import { describeCase, type RouteMap } from './routes.js';
import type { DeadLetterKind, RoutedResult, WorkerReport } from './worker-report.js';
import type { Case, CaseResult, ProcessResult, WorkerDefinition } from './worker.js';

export interface MessageHandlingDeps extends MessageContextDeps {
  readonly definition: WorkerDefinition;
  readonly transport: Transport;
  readonly routes: RouteMap;
  readonly report: WorkerReport;
  /** Operator warnings that can repeat once per message: rate-limited per kind. */
  readonly warnings: WarnLimiter;
}

/** The first result whose case has no route, when such a case dead-letters the message. */
class Unrouted {
  constructor(readonly caseValue: unknown) {}
}

const NO_UPLOADS: readonly UploadedObject[] = [];
const NO_QUEUES: readonly string[] = [];
const SETTLED: Promise<void> = Promise.resolve();

/** Milliseconds since the message came in; 0 when the clock was not read (nobody listened then). */
function msSince(timing: MessageTiming | undefined): number {
  return timing === undefined ? 0 : performance.now() - timing.started;
}

export class MessageHandling {
  constructor(private readonly deps: MessageHandlingDeps) {}

  get log(): Logger {
    return this.deps.log;
  }

  /**
   * The consumer's handler. Never rejects: a failure to settle is logged, and the transport
   * redelivers the message. Parsing and process run in this plain function, on the stack;
   * the rest in settle(), the one async function a message goes through, whose frame is
   * allocated per message and saved at every await: the message's own state travels in its
   * context, not in that frame (18 slots instead of 25). No clock read and no event built
   * unless someone listens, no list or key string made that a message without dropped
   * results or files does not need.
   */
  readonly handle = (delivery: Delivery): Promise<void> => {
    let id: bigint;
    try {
      id = parseId(delivery.body);
    } catch (err) {
      return this.deadLetter(delivery, undefined, 'bad_id', (err as Error).message).catch(this.notSettled);
    }
    try {
      const report = this.deps.report;
      const message = new MessageContext(this.deps, id, delivery);
      if (report.active) message.timing = { started: performance.now(), mark: report.received(id, delivery.attempt) };
      let returned: ProcessResult | Promise<ProcessResult>;
      try {
        returned = this.deps.definition.process(id, message);
      } catch (err) {
        return this.failed(message, err).catch(this.notSettled);
      }
      return this.settle(message, returned);
    } catch (err) {
      this.notSettled(err);
      return SETTLED;
    }
  };

  /**
   * What process gave back → route every result → upload the staged writes → publish every
   * result to every queue of its case, one send at a time in order, so that a failed send
   * publishes nothing further → ack. Never rejects.
   */
  private async settle(message: MessageContext, returned: ProcessResult | Promise<ProcessResult>): Promise<void> {
    try {
      let routed: RoutedResult[] | Unrouted;
      let uploads: readonly UploadedObject[] = NO_UPLOADS;
      try {
        if (isPromise(returned)) returned = await returned;
        routed = this.route(Array.isArray(returned) ? (returned as CaseResult[]) : await collectResults(returned));
        if (routed instanceof Unrouted) return await this.unrouted(message, routed);
        if (message.usedFiles) uploads = await this.upload(message);
        // Indexed loops: a for-of holding its iterator across an await was a third of the handler's time.
        for (let r = 0; r < routed.length; r++) {
          const result = routed[r]!;
          if (result.queues.length === 0) continue; // dropped
          const body = encodeId(result.id);
          for (let q = 0; q < result.queues.length; q++) await this.deps.transport.send(result.queues[q]!, { body });
        }
      } catch (err) {
        return await this.failed(message, err);
      }
      // Outside the inner try: a failed ack must not count as a failed attempt (everything
      // is published already); it is logged below and the broker redelivers.
      await MessageContext.deliveryOf(message).ack();
      this.done(message, routed, uploads);
    } catch (err) {
      this.notSettled(err);
    }
  }

  /** After the ack: a warning per dropped result, the "handled" event. */
  private done(message: MessageContext, routed: readonly RoutedResult[], uploads: readonly UploadedObject[]): void {
    if (this.deps.definition.unroutedCases === 'drop') this.warnDropped(message.id, routed);
    if (this.deps.report.active) this.deps.report.handled(message.id, message.timing?.mark, msSince(message.timing), routed, uploads);
  }

  private readonly notSettled = (err: unknown): void => {
    this.deps.warnings.warn('settle', { err }, 'could not settle a message; it will be redelivered (its results may be published again)');
  };

  /** Closes the handles and uploads the staged writes of a message that used files, then removes its staging. */
  private async upload(message: MessageContext): Promise<UploadedObject[]> {
    const uploads = await message.files.finalize();
    await message.files.discard();
    return uploads;
  }

  /** A result's case has no route (unroutedCases "dead-letter"): nothing is uploaded or published. */
  private async unrouted(message: MessageContext, unrouted: Unrouted): Promise<void> {
    await message.files.discard();
    await this.deadLetter(MessageContext.deliveryOf(message), message.id, 'no_route', new errors.SY_ERR_NO_ROUTE(this.deps.definition.name, describeCase(unrouted.caseValue)).message);
  }

  /**
   * Every result with the queues its case routes it to, all resolved before anything is
   * uploaded or published; a result with no queues is dropped (unroutedCases "drop"). Or
   * the first unrouted case, when it dead-letters the message.
   */
  private route(results: readonly CaseResult[]): RoutedResult[] | Unrouted {
    const { routes, definition } = this.deps;
    // Exactly as long as the results: a list grown by push starts at 17 slots.
    const routed = new Array<RoutedResult>(results.length);
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      if (!Array.isArray(result) || result.length !== 2) {
        throw new errors.SY_ERR_BAD_RESULT(`each result must be a [resultId, case] pair, got ${describeCase(result)}`);
      }
      const caseValue = result[1] as Case;
      const id = toId(result[0], 'result id');
      const queues = routes.queuesFor(caseValue);
      // A case routed to no queue at all counts as unrouted: nothing is dropped silently.
      if (queues && queues.length > 0) routed[i] = { id, case: caseValue, queues };
      else if (definition.unroutedCases === 'drop') routed[i] = { id, case: caseValue, queues: NO_QUEUES };
      else return new Unrouted(caseValue);
    }
    return routed;
  }

  private warnDropped(id: bigint, routed: readonly RoutedResult[]): void {
    for (const result of routed) {
      if (result.queues.length > 0) continue;
      const caseText = describeCase(result.case);
      this.deps.warnings.warn(`dropped ${caseText}`, { id: id.toString(), case: caseText, resultId: result.id.toString() }, 'no route for this case; result dropped (unroutedCases: "drop")');
    }
  }

  /** process, an upload or a publish failed: the staging goes, the message is retried or dead-lettered. */
  private async failed(message: MessageContext, err: unknown): Promise<void> {
    await message.files.discard().catch((e) => this.deps.warnings.warn('staging', { err: e }, 'could not remove the staging folder'));
    await this.fail(MessageContext.deliveryOf(message), message.id, asError(err), msSince(message.timing));
  }

  private async fail(delivery: Delivery, id: bigint, error: Error, durationMs: number): Promise<void> {
    const policy = this.deps.definition.retry;
    if (!shouldRetry(policy, delivery.attempt)) {
      return this.deadLetter(delivery, id, 'max_attempts', `failed ${delivery.attempt} time(s), giving up: ${error.message}`);
    }
    const retryInMs = backoffMs(policy, delivery.attempt);
    this.deps.report.failed(id, durationMs, error, retryInMs);
    if (this.deps.transport.capabilities.delayedRequeue) {
      await delivery.nack({ requeue: true, delayMs: retryInMs });
    } else {
      // Without delayed requeue, hold the message (and its prefetch slot) through the backoff.
      await new Promise((resolve) => setTimeout(resolve, retryInMs));
      await delivery.nack({ requeue: true });
    }
  }

  private async deadLetter(delivery: Delivery, id: bigint | undefined, kind: DeadLetterKind, reason: string): Promise<void> {
    await delivery.nack({ requeue: false, reason });
    this.deps.report.deadLettered(id, kind, reason);
  }
}
