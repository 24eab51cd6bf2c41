// Receiving: the handlers behind inbound sockets. A frame that cannot be read, or whose args
// fail validation, is refused (reporter.ts: "rejected", a rate-limited warning); a replyer
// answers it with the reason. A handler that throws is a failure ("failed"); a replyer
// answers with the reason. Either way the service goes on serving.
//
// States: a delta gap does not hold up the service loop. The snapshot is fetched off the
// loop; the loop goes on serving requests and messages (handlers see the state as it was
// before the gap), and the snapshot is applied through the loop when it arrives. What each
// update did to a state (applied, stale, gap, held, reset, ...) is a debug log line.

import { errors } from '../../errors.js';
import type { RequesterSocket } from '../../transports/sockets.js';
import { argsChecker, argsModelOf } from './args-model.js';
import { DELTA_STATE_ARGS, type DeltaOutcome, type DeltaStateIn, type Snapshot } from './delta-state.js';
import type { Args, Config, InStateModel, ReplyerModel, StatesView, SubscriberModel, ToSend } from './definition.js';
import { connectionCheckers } from './outbound.js';
import { idOf, Outputs, type ServiceReporter } from './reporter.js';
import { pack } from './wire/codec.js';
import { decodeEnvelope, decodeReply, encodeReply, type WorkflowId } from './wire/envelope.js';
import { Uuid } from './wire/values.js';

export type InState = { kind: 'full'; value: Args } | { kind: 'delta'; delta: DeltaStateIn };

/** What every inbound handler needs from its service. */
export interface InboundContext {
  readonly report: ServiceReporter;
  /** Runs work in the service loop (one at a time, in arrival order). */
  readonly serial: <T>(work: () => Promise<T>) => Promise<T>;
  /** True once the service is stopping (a failed snapshot fetch is then not worth a warning). */
  readonly stopping: () => boolean;
  readonly config: Config;
  readonly statesView: () => StatesView;
  /** A handler's toSend: sends carry `inboundId` (then "{id}_1", ...) and are collected in `outputs`. */
  readonly toSend: (inboundId: WorkflowId, outputs: Outputs | undefined) => ToSend;
}

export const DEFAULT_SNAPSHOT_TIMEOUT_MS = 10_000;

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/** Answers a replyer's requests: decode, validate, handler, validate the return args, reply. */
export function requestHandler(ctx: InboundContext, name: string, model: ReplyerModel): (frame: Uint8Array) => Promise<Uint8Array> {
  const check = connectionCheckers(name, model, 'inbound');
  const handler = model.onNewRequest as (...a: unknown[]) => unknown;
  const { report } = ctx;
  return async (frame: Uint8Array): Promise<Uint8Array> => {
    let envelope;
    let args;
    try {
      envelope = decodeEnvelope(frame);
    } catch (err) {
      report.rejected(name, 'undecodable', reasonOf(err), 'malformed request answered with an error');
      return encodeReply({}, null, reasonOf(err));
    }
    try {
      args = check.args(envelope.args);
    } catch (err) {
      report.rejected(name, 'invalid', reasonOf(err), 'invalid request answered with the error');
      return encodeReply({}, envelope.workflowId, reasonOf(err));
    }
    // As the original: a request without an id gets a new one for what its handler sends.
    const id = envelope.workflowId ?? Uuid.random();
    const outputs = report.active ? new Outputs() : undefined;
    const started = outputs ? report.received(name, idOf(id)) : 0;
    try {
      const pending = handler(args, ctx.toSend(id, outputs), ctx.statesView(), ctx.config);
      // A handler that answers synchronously costs no extra turn.
      const result = isThenable(pending) ? await pending : pending;
      const returnArgs = check.returns(result === undefined ? {} : result);
      const reply = encodeReply(check.returnsToWire(returnArgs), envelope.workflowId);
      if (outputs) report.handled(name, idOf(id), started, outputs.close());
      return reply;
    } catch (err) {
      if (outputs) outputs.close();
      report.failed(name, idOf(id), started, err, 'request failed; answered with the error');
      return encodeReply({}, envelope.workflowId, reasonOf(err));
    }
  };
}

/** Handles a subscriber's messages (after `skip` topic bytes). */
export function messageHandler(ctx: InboundContext, name: string, model: SubscriberModel, skip: number): (frame: Uint8Array) => Promise<void> {
  const check = connectionCheckers(name, model, 'inbound');
  const handler = model.onNewMessage as (...a: unknown[]) => unknown;
  const { report } = ctx;
  return async (frame: Uint8Array): Promise<void> => {
    let envelope;
    let args;
    try {
      envelope = decodeEnvelope(frame, skip);
    } catch (err) {
      report.rejected(name, 'undecodable', reasonOf(err), 'malformed message dropped');
      return;
    }
    try {
      args = check.args(envelope.args);
    } catch (err) {
      report.rejected(name, 'invalid', reasonOf(err), 'invalid message dropped');
      return;
    }
    const id = envelope.workflowId ?? Uuid.random();
    const outputs = report.active ? new Outputs() : undefined;
    const started = outputs ? report.received(name, idOf(id)) : 0;
    try {
      await handler(args, ctx.toSend(id, outputs), ctx.statesView(), ctx.config);
      if (outputs) report.handled(name, idOf(id), started, outputs.close());
    } catch (err) {
      if (outputs) outputs.close();
      report.failed(name, idOf(id), started, err, 'message failed; dropped');
    }
  };
}

/**
 * Updates an inbound state from its frames (after `skip` topic bytes); a delta gap fetches the
 * sender's snapshot through `requester`, off the loop.
 */
export function stateHandler(ctx: InboundContext, name: string, model: InStateModel, state: InState, skip: number, requester?: RequesterSocket): (frame: Uint8Array) => Promise<void> {
  const check = argsChecker(argsModelOf(model), `args of state "${name}"`, state.kind === 'delta' ? { required: DELTA_STATE_ARGS } : {});
  const { report } = ctx;
  const log = report.log;
  const debug = log.isLevelEnabled('debug');
  const resync = state.kind === 'delta' ? new SnapshotFetch(ctx, name, model, state.delta, requester!) : undefined;

  return async (frame: Uint8Array): Promise<void> => {
    let envelope;
    let args;
    try {
      envelope = decodeEnvelope(frame, skip);
    } catch (err) {
      report.rejected(name, 'undecodable', reasonOf(err), 'malformed state update dropped');
      return;
    }
    try {
      args = check(envelope.args);
    } catch (err) {
      report.rejected(name, 'invalid', reasonOf(err), 'invalid state update dropped');
      return;
    }
    const id = report.active ? idOf(envelope.workflowId) : '';
    const started = report.active ? report.received(name, id) : 0;
    if (state.kind === 'full') {
      state.value = args;
      if (debug) log.debug({ state: name, outcome: 'replaced' }, 'state update');
    } else {
      const outcome = state.delta.update(args);
      if (debug) log.debug({ state: name, outcome, currentNum: state.delta.currentNum }, 'state update');
      if (outcome === 'gap') {
        log.info({ state: name, have: state.delta.currentNum, got: Number(args.current_num) }, 'gap in delta updates; requesting a snapshot');
        resync!.start(id);
      }
    }
    // Applied, replaced, ignored as stale, held for the replay, or covered by the snapshot a gap asks for.
    if (report.active) report.handled(name, id, started, undefined);
  };
}

/**
 * One delta state's snapshot requests after a gap: one at a time (updates are held meanwhile,
 * DeltaStateIn), off the service loop; the result is applied through the loop. Each request is
 * a "called" on the state's name; a failed one drops the held updates, and the next delta asks
 * again.
 */
class SnapshotFetch {
  readonly #ctx: InboundContext;
  readonly #name: string;
  readonly #timeoutMs: number;
  readonly #delta: DeltaStateIn;
  readonly #requester: RequesterSocket;

  constructor(ctx: InboundContext, name: string, model: InStateModel, delta: DeltaStateIn, requester: RequesterSocket) {
    this.#ctx = ctx;
    this.#name = name;
    this.#timeoutMs = model.snapshotTimeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS;
    this.#delta = delta;
    this.#requester = requester;
  }

  /** Fetches the snapshot for the update `id` that found the gap. */
  start(id: string): void {
    void this.#run(id);
  }

  async #run(id: string): Promise<void> {
    const { report, serial } = this.#ctx;
    const started = report.active ? performance.now() : 0;
    let snap: Snapshot;
    try {
      snap = await this.#fetch();
    } catch (err) {
      if (report.active) report.called(this.#name, id, started, err);
      await serial(async () => {
        const dropped = this.#delta.abandon();
        if (!this.#ctx.stopping()) {
          report.warn(`snapshot:${this.#name}`, { state: this.#name, reason: `${reasonOf(err)} (${dropped} update(s) held meanwhile dropped; the next delta asks again)` }, 'snapshot request failed');
        }
      });
      return;
    }
    if (report.active) report.called(this.#name, id, started);
    await serial(async () => {
      const outcomes = this.#delta.reset(snap);
      this.#logOutcomes(outcomes);
      // The replay found another gap: ask again.
      if (outcomes.at(-1) === 'gap') this.start(id);
    });
  }

  async #fetch(): Promise<Snapshot> {
    const bytes = await this.#requester.request(pack({ args: {} }), { timeoutMs: this.#timeoutMs });
    const reply = decodeReply(bytes);
    const snap = reply.returnArgs as Partial<Snapshot>;
    if (reply.error !== undefined || typeof snap.state !== 'object' || snap.state === null || Array.isArray(snap.state) || snap.current_num === undefined) {
      throw new errors.SY_ERR_SERVICE_REMOTE(`state ${this.#name}`, reply.error ?? 'the snapshot reply has no state and current_num');
    }
    return snap as Snapshot;
  }

  #logOutcomes(outcomes: readonly DeltaOutcome[]): void {
    const log = this.#ctx.report.log;
    if (!log.isLevelEnabled('debug')) return;
    for (const outcome of outcomes) log.debug({ state: this.#name, outcome, currentNum: this.#delta.currentNum }, 'state update');
  }
}
