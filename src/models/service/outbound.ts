// Sending (toSend): outbound connections and states, each with its checkers made once.
// Validation happens before anything leaves (SPECS.md §2.4); a requester's return args are
// checked when the reply arrives; an error reply becomes SY_ERR_SERVICE_REMOTE. What leaves
// is reported (reporter.ts): a round trip or an external request as "called", a publication
// or a state update as one of the handler's outputs, or as "sent" outside a handler.

import { errors } from '../../errors.js';
import { warnLimiter, type WarnLimiter } from '../../observability/warn-limiter.js';
import type { PublisherSocket, RequesterSocket } from '../../transports/sockets.js';
import { argsChecker, argsModelOf, returnModelOf, wireMarker, type ArgsChecker, type WireMarker } from './args-model.js';
import type { DeltaStateOut } from './delta-state.js';
import type {
  Args, ExternalRequestModel, OutStateModel, PublisherModel, ReplyerModel, RequesterModel, SubscriberModel, ToSend,
} from './definition.js';
import { idOf, type Outputs, type ServiceReporter } from './reporter.js';
import { decodeReply, encodeEnvelope, type WorkflowId } from './wire/envelope.js';
import { workflowIds } from './workflow-ids.js';

export interface Checkers {
  readonly args: ArgsChecker;
  readonly returns: ArgsChecker;
  /** Args on their way out (floats as float64); for a requester or a publisher. */
  readonly argsToWire: WireMarker;
  /** Return args on their way out; for a replyer. */
  readonly returnsToWire: WireMarker;
}

export type OutConnection = Checkers & (
  | { model: RequesterModel; socket: RequesterSocket; address?: string }
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

/** How long a requester without timeoutMs waits before it says so. */
const DEFAULT_WARN_AFTER_MS = 10_000;

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The sending half of a service: its outbound connections and states, filled in as they open. */
export class Sender {
  readonly connections = new Map<string, OutConnection>();
  readonly states = new Map<string, OutState>();
  readonly #report: ServiceReporter;
  /** "Still waiting" warnings: one per connection per window, the rest counted. */
  readonly #waiting: WarnLimiter;

  constructor(report: ServiceReporter) {
    this.#report = report;
    this.#waiting = warnLimiter(report.log);
  }

  /**
   * A toSend: a handler's carries its inbound message's id (`increment`: the first send uses
   * it, later ones "{id}_1", ...) and collects its outputs; one for code outside handlers gets
   * a new UUID per send.
   */
  toSend(inboundId: WorkflowId | undefined, increment: boolean, outputs?: Outputs): ToSend {
    const nextId = workflowIds(inboundId, increment);
    return (kind, name, args) => this.send(kind, name, args, nextId, outputs);
  }

  async send(kind: 'connection' | 'state', name: string, args: Args, nextId: () => WorkflowId, outputs?: Outputs): Promise<Args> {
    // Every call takes the next id, before anything is checked, as the original's to_send does.
    const id = nextId();
    if (kind === 'connection') {
      const out = this.connections.get(name);
      if (!out) throw new errors.SY_ERR_SERVICE_OUTPUT(kind, name, [...this.connections.keys()]);
      const checked = out.args(args);
      if (out.model.connectionType === 'external_request') return this.#external(name, out as OutConnection & { model: ExternalRequestModel }, checked, id);
      if (out.model.connectionType === 'publisher') {
        const o = out as { socket: PublisherSocket; prefix: Uint8Array };
        await o.socket.publish(encodeEnvelope(out.argsToWire(checked), id, o.prefix));
        this.#produced(name, id, outputs);
        return {};
      }
      return this.#request(name, out as OutConnection & { model: RequesterModel; socket: RequesterSocket }, checked, id);
    }
    if (kind === 'state') {
      const out = this.states.get(name);
      if (!out) throw new errors.SY_ERR_SERVICE_OUTPUT(kind, name, [...this.states.keys()]);
      if (out.kind === 'full') {
        await out.socket.publish(encodeEnvelope(out.toWire(out.args(args)), id, out.prefix));
        this.#produced(name, id, outputs);
        return {};
      }
      const complete = out.delta.complete(args);
      out.args(complete);
      // The local copy keeps the wire form too, so a snapshot sends floats as floats.
      const wire = out.toWire(complete);
      const frame = encodeEnvelope(wire, id, out.prefix);
      // Recorded before the publish resolves: a snapshot served from now on includes it.
      out.delta.record(wire);
      await out.socket.publish(frame);
      this.#produced(name, id, outputs);
      return {};
    }
    throw new errors.SY_ERR_SERVICE_OUTPUT(String(kind), name, []);
  }

  /** A requester's round trip: send, wait for the reply, check its return args. */
  async #request(name: string, out: OutConnection & { model: RequesterModel; socket: RequesterSocket }, checked: Args, id: WorkflowId): Promise<Args> {
    const report = this.#report.active ? this.#report : undefined;
    const started = report ? performance.now() : 0;
    const waiting = out.model.timeoutMs === undefined ? this.#warnWhileWaiting(name, out) : undefined;
    try {
      const replyBytes = await out.socket.request(encodeEnvelope(out.argsToWire(checked), id), out.model.timeoutMs === undefined ? {} : { timeoutMs: out.model.timeoutMs });
      let reply;
      try {
        reply = decodeReply(replyBytes);
      } catch (err) {
        throw new errors.SY_ERR_SERVICE_REMOTE(name, `its reply could not be read: ${reasonOf(err)}`);
      }
      if (reply.error !== undefined) throw new errors.SY_ERR_SERVICE_REMOTE(name, reply.error);
      const returned = out.returns(reply.returnArgs);
      report?.called(name, idOf(id), started);
      return returned;
    } catch (err) {
      report?.called(name, idOf(id), started, err);
      throw err;
    } finally {
      if (waiting) clearTimeout(waiting);
    }
  }

  /**
   * A requester without timeoutMs waits for its reply as long as it takes, as the original
   * does (a default timeout would fail requests a slow replyer answers). So that a wrong
   * address or a replyer that is not running is not silent, a warning names the connection
   * and the address after warnAfterMs (10 s); the request keeps waiting.
   */
  #warnWhileWaiting(name: string, out: { model: RequesterModel; address?: string }): NodeJS.Timeout {
    const afterMs = out.model.warnAfterMs ?? DEFAULT_WARN_AFTER_MS;
    const timer = setTimeout(() => {
      this.#waiting.warn(`waiting ${name}`, { connection: name, address: out.address, waitedMs: afterMs },
        `requester "${name}" has had no reply from ${out.address ?? 'its replyer'} for ${afterMs / 1000} s and waits on (it has no timeoutMs): check that a replyer runs at that address (addresses file: connections.out.${name}.requester) and is not stuck, or give the requester timeoutMs to fail instead`);
    }, afterMs);
    timer.unref();
    return timer;
  }

  /** An external request: the function in place of a socket, validated both ways. */
  async #external(name: string, out: OutConnection & { model: ExternalRequestModel }, checked: Args, id: WorkflowId): Promise<Args> {
    const report = this.#report.active ? this.#report : undefined;
    if (!report) return out.returns((await out.model.funcToCall(checked as never)) ?? {});
    const started = performance.now();
    try {
      const returned = out.returns((await out.model.funcToCall(checked as never)) ?? {});
      report.called(name, idOf(id), started);
      return returned;
    } catch (err) {
      report.called(name, idOf(id), started, err);
      throw err;
    }
  }

  #produced(output: string, id: WorkflowId, outputs: Outputs | undefined): void {
    if (!this.#report.active) return;
    if (outputs?.open) outputs.list.push({ output, id: idOf(id) });
    else this.#report.sent(output, idOf(id));
  }
}
