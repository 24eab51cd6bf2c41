// Receiving: the handlers behind inbound sockets. A frame that cannot be read or validated,
// or a handler that throws, is logged with the reason and reported as a `rejected` event; a
// replyer answers with the reason; the service goes on serving. The log lines go through a
// per-kind rate limiter, so a peer sending bad frames cannot flood the log (the events and
// the replies are not limited).
//
// States: a delta gap does not hold up the service loop. The snapshot is fetched off the
// loop; the loop goes on serving requests and messages (handlers see the state as it was
// before the gap), and the snapshot is applied through the loop when it arrives.

import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { LimitedWarn } from '../../observability/warn-limiter.js';
import type { RequesterSocket } from '../../transports/sockets.js';
import { argsChecker, argsModelOf } from './args-model.js';
import { DELTA_STATE_ARGS, type DeltaOutcome, type DeltaStateIn, type Snapshot } from './delta-state.js';
import type { Args, Config, InStateModel, ReplyerModel, StatesView, SubscriberModel, ToSend } from './definition.js';
import { connectionCheckers } from './outbound.js';
import { pack } from './wire/codec.js';
import { decodeEnvelope, decodeReply, encodeReply, MalformedFrame, type WorkflowId } from './wire/envelope.js';

export type ServiceEvent =
  | { readonly type: 'handled'; readonly kind: 'connection' | 'state'; readonly name: string; readonly workflowId: WorkflowId }
  | { readonly type: 'rejected'; readonly kind: 'connection' | 'state'; readonly name: string; readonly reason: string }
  | { readonly type: 'state'; readonly name: string; readonly outcome: DeltaOutcome | 'replaced'; readonly currentNum?: number }
  /** A delta_update_out state answered a receiver's snapshot request. */
  | { readonly type: 'snapshot-served'; readonly name: string; readonly currentNum: number };

export type InState = { kind: 'full'; value: Args } | { kind: 'delta'; delta: DeltaStateIn };

/** What every inbound handler needs from its service. */
export interface InboundContext {
  readonly log: Logger;
  /** Rate-limited warnings, keyed by what went wrong where. */
  readonly warn: LimitedWarn;
  /** Runs work in the service loop (one at a time, in arrival order). */
  readonly serial: <T>(work: () => Promise<T>) => Promise<T>;
  /** True once the service is stopping (a failed snapshot fetch is then not worth a warning). */
  readonly stopping: () => boolean;
  readonly emit: (event: ServiceEvent) => void;
  readonly config: Config;
  readonly statesView: () => StatesView;
  readonly makeToSend: (inboundId: WorkflowId | undefined, increment: boolean) => ToSend;
}

export const DEFAULT_SNAPSHOT_TIMEOUT_MS = 10_000;

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function reject(ctx: InboundContext, kind: 'connection' | 'state', name: string, reason: string, what: string): void {
  ctx.warn(`${kind}:${name}:${what}`, { [kind]: name, reason }, what);
  ctx.emit({ type: 'rejected', kind, name, reason });
}

/** Answers a replyer's requests: decode, validate, handler, validate the return args, reply. */
export function requestHandler(ctx: InboundContext, name: string, model: ReplyerModel): (frame: Uint8Array) => Promise<Uint8Array> {
  const check = connectionCheckers(name, model, 'inbound');
  return async (frame: Uint8Array): Promise<Uint8Array> => {
    let envelope;
    try {
      envelope = decodeEnvelope(frame);
    } catch (err) {
      reject(ctx, 'connection', name, reasonOf(err), 'malformed request answered with an error');
      return encodeReply({}, null, reasonOf(err));
    }
    try {
      const args = check.args(envelope.args);
      const handler = model.onNewRequest as (...a: unknown[]) => unknown;
      const pending = handler(args, ctx.makeToSend(envelope.workflowId, true), ctx.statesView(), ctx.config);
      // A handler that answers synchronously costs no extra turn.
      const result = typeof (pending as PromiseLike<unknown> | undefined)?.then === 'function' ? await pending : pending;
      const returnArgs = check.returns(result === undefined ? {} : result);
      const reply = encodeReply(check.returnsToWire(returnArgs), envelope.workflowId);
      ctx.emit({ type: 'handled', kind: 'connection', name, workflowId: envelope.workflowId });
      return reply;
    } catch (err) {
      reject(ctx, 'connection', name, reasonOf(err), 'request failed; answered with the error');
      return encodeReply({}, envelope.workflowId, reasonOf(err));
    }
  };
};

/** Handles a subscriber's messages (after `skip` topic bytes). */
export function messageHandler(ctx: InboundContext, name: string, model: SubscriberModel, skip: number): (frame: Uint8Array) => Promise<void> {
  const check = connectionCheckers(name, model, 'inbound');
  return async (frame: Uint8Array): Promise<void> => {
    try {
      const envelope = decodeEnvelope(frame, skip);
      const args = check.args(envelope.args);
      const handler = model.onNewMessage as (...a: unknown[]) => unknown;
      await handler(args, ctx.makeToSend(envelope.workflowId, true), ctx.statesView(), ctx.config);
      ctx.emit({ type: 'handled', kind: 'connection', name, workflowId: envelope.workflowId });
    } catch (err) {
      reject(ctx, 'connection', name, reasonOf(err), err instanceof MalformedFrame ? 'malformed message dropped' : 'message failed; dropped');
    }
  };
};

/** Updates an inbound state from its frames (after `skip` topic bytes); a delta gap fetches the sender's snapshot off the loop. */
export function stateHandler(ctx: InboundContext, name: string, model: InStateModel, state: InState, skip: number, requester?: RequesterSocket): (frame: Uint8Array) => Promise<void> {
  const check = argsChecker(argsModelOf(model), `args of state "${name}"`, state.kind === 'delta' ? { required: DELTA_STATE_ARGS } : {});

  const fetchSnapshot = async (): Promise<Snapshot> => {
    const bytes = await requester!.request(pack({ args: {} }), { timeoutMs: model.snapshotTimeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS });
    const reply = decodeReply(bytes);
    const snap = reply.returnArgs as Partial<Snapshot>;
    if (reply.error !== undefined || typeof snap.state !== 'object' || snap.state === null || Array.isArray(snap.state) || snap.current_num === undefined) {
      throw new errors.SY_ERR_SERVICE_REMOTE(`state ${name}`, reply.error ?? 'the snapshot reply has no state and current_num');
    }
    return snap as Snapshot;
  };

  const report = (outcome: DeltaOutcome, delta: DeltaStateIn) => {
    ctx.emit({ type: 'state', name, outcome, currentNum: delta.currentNum });
    if (outcome === 'gap') resync(delta);
  };

  // One fetch at a time per state: updates are held until it ends (DeltaStateIn).
  const resync = (delta: DeltaStateIn) => {
    void (async () => {
      let snap: Snapshot;
      try {
        snap = await fetchSnapshot();
      } catch (err) {
        await ctx.serial(async () => {
          const dropped = delta.abandon();
          if (!ctx.stopping()) reject(ctx, 'state', name, `${reasonOf(err)} (${dropped} update(s) held meanwhile dropped; the next delta asks again)`, 'snapshot request failed');
        });
        return;
      }
      await ctx.serial(async () => {
        for (const outcome of delta.reset(snap)) report(outcome, delta);
      });
    })();
  };

  return async (frame: Uint8Array): Promise<void> => {
    try {
      const envelope = decodeEnvelope(frame, skip);
      if (state.kind === 'full') {
        state.value = check(envelope.args);
        ctx.emit({ type: 'state', name, outcome: 'replaced' });
        return;
      }
      const args = check(envelope.args);
      const outcome = state.delta.update(args);
      if (outcome === 'gap') ctx.log.info({ state: name, have: state.delta.currentNum, got: Number(args.current_num) }, 'gap in delta updates; requesting a snapshot');
      report(outcome, state.delta);
    } catch (err) {
      reject(ctx, 'state', name, reasonOf(err), err instanceof MalformedFrame ? 'malformed state update dropped' : 'state update failed; dropped');
    }
  };
}
