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
import type { CaseResult, WorkerDefinition } from './worker.js';

export interface MessageHandlingDeps extends MessageContextDeps {
  readonly definition: WorkerDefinition;
  readonly transport: Transport;
  readonly routes: RouteMap;
  readonly report: WorkerReport;
  /** Operator warnings that can repeat once per message: rate-limited per kind. */
  readonly warnings: WarnLimiter;
}

/** The results of one message split by route: the ones to publish, the dropped, the first unrouted. */
interface Routing {
  readonly routed: RoutedResult[];
  readonly dropped: RoutedResult[];
  readonly unrouted?: { readonly case: unknown };
}

const NO_UPLOADS: readonly UploadedObject[] = [];

export class MessageHandling {
  constructor(private readonly deps: MessageHandlingDeps) {}

  get log(): Logger {
    return this.deps.log;
  }

  /** The consumer's handler. Never rejects: a failure to settle is logged, and the transport redelivers the message. */
  readonly handle = async (delivery: Delivery): Promise<void> => {
    try {
      await this.work(delivery);
    } catch (err) {
      this.deps.warnings.warn('settle', { err }, 'could not settle a message; it will be redelivered (its results may be published again)');
    }
  };

  private async work(delivery: Delivery): Promise<void> {
    const { definition, report } = this.deps;
    let id: bigint;
    try {
      id = parseId(delivery.body);
    } catch (err) {
      return this.deadLetter(delivery, undefined, 'bad_id', (err as Error).message);
    }
    const started = performance.now();
    const receivedMark = report.received(id, delivery.attempt);
    const context = new MessageContext(this.deps, id, delivery);
    let routed: RoutedResult[];
    let dropped: RoutedResult[];
    let uploads: readonly UploadedObject[];
    try {
      let returned = definition.process(id, context);
      if (isPromise(returned)) returned = await returned;
      const results = Array.isArray(returned) ? (returned as CaseResult[]) : await collectResults(returned);
      const routing = this.route(results);
      if (routing.unrouted) {
        await context.files.discard();
        return this.deadLetter(delivery, id, 'no_route', new errors.SY_ERR_NO_ROUTE(definition.name, describeCase(routing.unrouted.case)).message);
      }
      ({ routed, dropped } = routing);
      uploads = context.usedFiles ? await context.files.finalize() : NO_UPLOADS;
      if (context.usedFiles) await context.files.discard();
      await this.publish(routed);
    } catch (err) {
      await context.files.discard().catch((e) => this.deps.warnings.warn('staging', { err: e }, 'could not remove the staging folder'));
      return this.fail(delivery, id, asError(err), performance.now() - started);
    }
    // Outside the try: a failed ack must not count as a failed attempt (everything is
    // published already); handle() logs it and the broker redelivers.
    await delivery.ack();
    for (const result of dropped) {
      const caseText = describeCase(result.case);
      this.deps.warnings.warn(`dropped ${caseText}`, { id: id.toString(), case: caseText, resultId: result.id.toString() }, 'no route for this case; result dropped (unroutedCases: "drop")');
    }
    report.handled(id, receivedMark, performance.now() - started, routed, uploads);
  }

  /** Resolves every result's queues before anything is uploaded or published. */
  private route(results: CaseResult[]): Routing {
    const routed: RoutedResult[] = [];
    const dropped: RoutedResult[] = [];
    const { routes, definition } = this.deps;
    for (const result of results) {
      if (!Array.isArray(result) || result.length !== 2) {
        throw new errors.SY_ERR_BAD_RESULT(`each result must be a [resultId, case] pair, got ${describeCase(result)}`);
      }
      const [rawId, caseValue] = result;
      const id = toId(rawId, 'result id');
      const queues = routes.queuesFor(caseValue);
      // A case routed to no queue at all counts as unrouted: nothing is dropped silently.
      if (queues && queues.length > 0) routed.push({ id, case: caseValue, queues });
      else if (definition.unroutedCases === 'drop') dropped.push({ id, case: caseValue, queues: [] });
      else return { routed, dropped, unrouted: { case: caseValue } };
    }
    return { routed, dropped };
  }

  /**
   * Every result to every queue of its case, one send at a time in order, so that a failed
   * send publishes nothing further; resolves when the transport holds them all.
   */
  private async publish(results: readonly RoutedResult[]): Promise<void> {
    const { transport } = this.deps;
    for (const result of results) {
      const body = encodeId(result.id);
      for (const queue of result.queues) await transport.send(queue, { body });
    }
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
