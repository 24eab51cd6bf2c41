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
import { asError, collectResults, isPromise, MessageContext, type MessageContextDeps } from './message-context.js';
import type { UploadedObject } from './request-files.js';
import { describeCase, type RouteMap } from './routes.js';
import type { DeadLetterKind, RoutedResult, WorkerReport } from './worker-report.js';
import type { Case, CaseResult, WorkerDefinition } from './worker.js';

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

/** Milliseconds since `started`; 0 when the clock was not read (nobody listened as the message came in). */
function msSince(started: number): number {
  return started === 0 ? 0 : performance.now() - started;
}

export class MessageHandling {
  constructor(private readonly deps: MessageHandlingDeps) {}

  get log(): Logger {
    return this.deps.log;
  }

  /**
   * The consumer's handler. Never rejects: a failure to settle is logged, and the transport
   * redelivers the message. One async frame for every step, indexed loops, no clock read
   * and no event built unless someone listens, no list or key string made per message that
   * a message without dropped results or files does not need: the worker's cost over a bare
   * loop's handler fell from ~0.8 to ~0.25 µs per message (bench/memory-worker.ts).
   */
  readonly handle = async (delivery: Delivery): Promise<void> => {
    // Few locals, rare paths in methods of their own: the frame is saved and restored at
    // every await, and allocated once per message.
    try {
      let id: bigint;
      try {
        id = parseId(delivery.body);
      } catch (err) {
        await this.deadLetter(delivery, undefined, 'bad_id', (err as Error).message);
        return;
      }
      const started = this.deps.report.active ? performance.now() : 0;
      const receivedMark = this.deps.report.received(id, delivery.attempt);
      const context = new MessageContext(this.deps, id, delivery);
      let routed: RoutedResult[] | Unrouted;
      let uploads: readonly UploadedObject[] = NO_UPLOADS;
      try {
        let returned = this.deps.definition.process(id, context);
        if (isPromise(returned)) returned = await returned;
        routed = this.route(Array.isArray(returned) ? (returned as CaseResult[]) : await collectResults(returned));
        if (routed instanceof Unrouted) return await this.unrouted(delivery, id, context, routed);
        if (context.usedFiles) uploads = await this.upload(context);
        // Every result to every queue of its case, one send at a time in order, so that a
        // failed send publishes nothing further. Indexed loops: a for-of holding its
        // iterator across an await was a third of this function's time.
        for (let r = 0; r < routed.length; r++) {
          const result = routed[r]!;
          if (result.queues.length === 0) continue; // dropped
          const body = encodeId(result.id);
          for (let q = 0; q < result.queues.length; q++) await this.deps.transport.send(result.queues[q]!, { body });
        }
      } catch (err) {
        await this.failed(delivery, id, context, err, started);
        return;
      }
      // Outside the inner try: a failed ack must not count as a failed attempt (everything
      // is published already); it is logged below and the broker redelivers.
      await delivery.ack();
      if (this.deps.definition.unroutedCases === 'drop') this.warnDropped(id, routed);
      if (this.deps.report.active) this.deps.report.handled(id, receivedMark, msSince(started), routed, uploads);
    } catch (err) {
      this.deps.warnings.warn('settle', { err }, 'could not settle a message; it will be redelivered (its results may be published again)');
    }
  };

  /** Closes the handles and uploads the staged writes of a message that used files, then removes its staging. */
  private async upload(context: MessageContext): Promise<UploadedObject[]> {
    const uploads = await context.files.finalize();
    await context.files.discard();
    return uploads;
  }

  /** A result's case has no route (unroutedCases "dead-letter"): nothing is uploaded or published. */
  private async unrouted(delivery: Delivery, id: bigint, context: MessageContext, unrouted: Unrouted): Promise<void> {
    await context.files.discard();
    await this.deadLetter(delivery, id, 'no_route', new errors.SY_ERR_NO_ROUTE(this.deps.definition.name, describeCase(unrouted.caseValue)).message);
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
  private async failed(delivery: Delivery, id: bigint, context: MessageContext, err: unknown, started: number): Promise<void> {
    await context.files.discard().catch((e) => this.deps.warnings.warn('staging', { err: e }, 'could not remove the staging folder'));
    await this.fail(delivery, id, asError(err), msSince(started));
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
