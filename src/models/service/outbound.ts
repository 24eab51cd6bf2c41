// Sending (toSend): outbound connections and states, each with its checkers made once.
// Validation happens before anything leaves (SPECS.md §2.4); a requester's return args are
// checked when the reply arrives; an error reply becomes SY_ERR_SERVICE_REMOTE.

import { errors } from '../../errors.js';
import type { PublisherSocket, RequesterSocket } from '../../transports/sockets.js';
import { argsChecker, argsModelOf, returnModelOf, wireMarker, type ArgsChecker, type WireMarker } from './args-model.js';
import type { DeltaStateOut } from './delta-state.js';
import type {
  Args, ExternalRequestModel, OutStateModel, PublisherModel, ReplyerModel, RequesterModel, SubscriberModel,
} from './definition.js';
import { decodeReply, encodeEnvelope, type WorkflowId } from './wire/envelope.js';

export interface Checkers {
  readonly args: ArgsChecker;
  readonly returns: ArgsChecker;
  /** Args on their way out (floats as float64); for a requester or a publisher. */
  readonly argsToWire: WireMarker;
  /** Return args on their way out; for a replyer. */
  readonly returnsToWire: WireMarker;
}

export type OutConnection = Checkers & (
  | { model: RequesterModel; socket: RequesterSocket }
  | { model: PublisherModel; socket: PublisherSocket; prefix: Uint8Array }
  | { model: ExternalRequestModel });

export type OutState = { readonly args: ArgsChecker; readonly toWire: WireMarker; readonly prefix: Uint8Array } & (
  | { model: OutStateModel; kind: 'full'; socket: PublisherSocket }
  | { model: OutStateModel; kind: 'delta'; socket: PublisherSocket; delta: DeltaStateOut });

/** Checkers of a connection's args and return args, made once. */
export function connectionCheckers(name: string, model: RequesterModel | PublisherModel | ExternalRequestModel | ReplyerModel | SubscriberModel, direction: 'inbound' | 'outbound'): Checkers {
  const returns = 'returnArguments' in model || 'requiredReturnArguments' in model || 'optionalReturnArguments' in model ? returnModelOf(model as ReplyerModel) : {};
  return {
    args: argsChecker(argsModelOf(model), `${direction} args of connection "${name}"`),
    returns: argsChecker(returns, `return args of connection "${name}"`),
    argsToWire: wireMarker(argsModelOf(model)),
    returnsToWire: wireMarker(returns),
  };
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The sending half of toSend; `nextId` gives each send its workflow id. */
export function createSender(outConnections: ReadonlyMap<string, OutConnection>, outStates: ReadonlyMap<string, OutState>) {
  return async (kind: 'connection' | 'state', name: string, args: Args, nextId: () => WorkflowId): Promise<Args> => {
    if (kind === 'connection') {
      const out = outConnections.get(name);
      if (!out) throw new errors.SY_ERR_SERVICE_OUTPUT(kind, name, [...outConnections.keys()]);
      const checked = out.args(args);
      if (out.model.connectionType === 'external_request') {
        const result = (await out.model.funcToCall(checked as never)) ?? {};
        return out.returns(result);
      }
      if (out.model.connectionType === 'publisher') {
        const o = out as { socket: PublisherSocket; prefix: Uint8Array };
        await o.socket.publish(encodeEnvelope(out.argsToWire(checked), nextId(), o.prefix));
        return {};
      }
      const model = out.model;
      const socket = (out as { socket: RequesterSocket }).socket;
      const replyBytes = await socket.request(encodeEnvelope(out.argsToWire(checked), nextId()), model.timeoutMs === undefined ? {} : { timeoutMs: model.timeoutMs });
      let reply;
      try {
        reply = decodeReply(replyBytes);
      } catch (err) {
        throw new errors.SY_ERR_SERVICE_REMOTE(name, `its reply could not be read: ${reasonOf(err)}`);
      }
      if (reply.error !== undefined) throw new errors.SY_ERR_SERVICE_REMOTE(name, reply.error);
      return out.returns(reply.returnArgs);
    }
    if (kind === 'state') {
      const out = outStates.get(name);
      if (!out) throw new errors.SY_ERR_SERVICE_OUTPUT(kind, name, [...outStates.keys()]);
      if (out.kind === 'full') {
        await out.socket.publish(encodeEnvelope(out.toWire(out.args(args)), nextId(), out.prefix));
        return {};
      }
      const complete = out.delta.complete(args);
      out.args(complete);
      // The local copy keeps the wire form too, so a snapshot sends floats as floats.
      const wire = out.toWire(complete);
      const frame = encodeEnvelope(wire, nextId(), out.prefix);
      // Recorded before the publish resolves: a snapshot served from now on includes it.
      out.delta.record(wire);
      await out.socket.publish(frame);
      return {};
    }
    throw new errors.SY_ERR_SERVICE_OUTPUT(String(kind), name, []);
  };
}
