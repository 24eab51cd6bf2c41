// Runs one service (SPECS.md §2.5): config, addresses, connections, states, then the service
// loop, on any SocketFactory (ZeroMQ or in-process). Inbound messages, from every inbound
// connection and state, are handled one at a time in arrival order, as the original's single
// poll loop does, so a handler always sees states that no other message is changing.
// A frame that cannot be read or validated, or a handler that throws, is logged with the
// reason (a replyer answers with it) and the service goes on serving.

import { errors } from '../../errors.js';
import { createLogger, type Logger } from '../../observability/logger.js';
import type { Closable, PublisherSocket, RequesterSocket, SocketFactory } from '../../transports/sockets.js';
import { argsChecker, argsModelOf, returnModelOf, type ArgsChecker } from './args-model.js';
import { DELTA_STATE_ARGS, DeltaStateIn, DeltaStateOut, type DeltaOutcome, type Snapshot } from './delta-state.js';
import type {
  Addresses, Args, Config, ConnectionModels, ExternalRequestModel, InStateModel, OutStateModel, PublisherModel,
  ReplyerModel, RequesterModel, ServiceDefinition, StateModels, StatesView, SubscriberModel, ToSend,
} from './definition.js';
import { ADDRESS_KEYS, checkModels } from './model-check.js';
import { setupServiceConfig } from './service-config.js';
import { pack } from './wire/codec.js';
import {
  decodeEnvelope, decodeReply, encodeEnvelope, encodeReply, MalformedFrame, topicPrefixOf, type WorkflowId,
} from './wire/envelope.js';
import { workflowIds } from './workflow-ids.js';

export type ServiceEvent =
  | { readonly type: 'handled'; readonly kind: 'connection' | 'state'; readonly name: string; readonly workflowId: WorkflowId }
  | { readonly type: 'rejected'; readonly kind: 'connection' | 'state'; readonly name: string; readonly reason: string }
  | { readonly type: 'state'; readonly name: string; readonly outcome: DeltaOutcome | 'replaced'; readonly currentNum?: number };

export interface ServiceEnvironment {
  readonly sockets: SocketFactory;
  /** addresses.json's content. */
  readonly addresses?: Addresses;
  /** The config file merged with extra CLI pairs, before setupConfig and validation. */
  readonly config?: Config;
  readonly logger?: Logger;
  /** Main mode (-m): run `main`, then stop. */
  readonly mainMode?: boolean;
  /** For logs and errors. */
  readonly name?: string;
  readonly onEvent?: (event: ServiceEvent) => void;
}

export interface RunningService {
  readonly config: Config;
  /** A toSend for code outside handlers (tests, embedding): every send gets a new workflow id. */
  readonly toSend: ToSend;
  /** The current value of every inbound state. */
  states(): StatesView;
  /** Runs the service's sigintHandler (the CLI calls it on SIGINT, then stop()). */
  sigint(signal?: NodeJS.Signals): Promise<void>;
  /** Stops taking messages, lets the one in hand finish, closes every socket. */
  stop(): Promise<void>;
  /** Settles once the service stopped: after `main` returned in main mode, or after stop(). Rejects if main threw. */
  readonly done: Promise<void>;
}

interface Checkers {
  readonly args: ArgsChecker;
  readonly returns: ArgsChecker;
}

type OutConnection = Checkers & (
  | { model: RequesterModel; socket: RequesterSocket }
  | { model: PublisherModel; socket: PublisherSocket; prefix: Uint8Array }
  | { model: ExternalRequestModel });

type OutState = { readonly args: ArgsChecker } & (
  | { model: OutStateModel; kind: 'full'; socket: PublisherSocket }
  | { model: OutStateModel; kind: 'delta'; socket: PublisherSocket; delta: DeltaStateOut });

/** Checkers of a connection's args and return args, made once. */
function connectionCheckers(name: string, model: RequesterModel | PublisherModel | ExternalRequestModel | ReplyerModel | SubscriberModel, direction: 'inbound' | 'outbound'): Checkers {
  return {
    args: argsChecker(argsModelOf(model), `${direction} args of connection "${name}"`),
    returns: argsChecker('returnArguments' in model || 'requiredReturnArguments' in model || 'optionalReturnArguments' in model ? returnModelOf(model as ReplyerModel) : {}, `return args of connection "${name}"`),
  };
}

type InState = { kind: 'full'; value: Args } | { kind: 'delta'; delta: DeltaStateIn };

const DEFAULT_JOIN_WAIT_S = 0.15;
const DEFAULT_SNAPSHOT_TIMEOUT_MS = 10_000;

/** One message at a time, in arrival order; nothing runs before `open()`. */
class SerialLoop {
  private tail: Promise<unknown>;
  private openGate!: () => void;
  private opened = false;
  private pending = 0;
  private readonly release = () => {
    this.pending--;
  };
  constructor() {
    this.tail = new Promise<void>((resolve) => (this.openGate = resolve));
  }
  open(): void {
    this.opened = true;
    this.openGate();
  }
  run<T>(work: () => Promise<T>): Promise<T> {
    // Idle: start at once rather than a promise hop later (this is on every message's path).
    const idle = this.opened && this.pending === 0;
    this.pending++;
    const result = idle ? work() : this.tail.then(work);
    this.tail = result.then(this.release, this.release);
    return result;
  }
  idle(): Promise<unknown> {
    return this.tail;
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function addressesOf(addresses: Addresses, group: 'connections' | 'states', side: 'in' | 'out', name: string, type: string): Record<string, string> {
  const needed = ADDRESS_KEYS[type] ?? [];
  if (needed.length === 0) return {};
  const entry = addresses[group]?.[side]?.[name];
  const path = `${group}.${side}.${name}`;
  if (!entry || typeof entry !== 'object') throw new errors.SY_ERR_SERVICE_ADDRESSES(path, `is missing (a ${type} needs ${needed.map((k) => JSON.stringify(k)).join(' and ')})`);
  for (const key of needed) {
    if (typeof entry[key] !== 'string' || entry[key] === '') throw new errors.SY_ERR_SERVICE_ADDRESSES(`${path}.${key}`, `is missing: a ${type} needs "${key}": "host:port"`);
  }
  return entry;
}

export async function startService(definition: ServiceDefinition, env: ServiceEnvironment): Promise<RunningService> {
  const where = env.name ?? definition.name ?? 'service';
  const log = (env.logger ?? createLogger({ level: 'silent' })).child({ service: where });
  const sockets = env.sockets;
  const emit = env.onEvent ?? (() => undefined);
  const loop = new SerialLoop();
  const inbound: Closable[] = [];
  const outbound: Closable[] = [];

  const config = await setupServiceConfig(definition, env.config ?? {}, where);

  let addresses: Addresses = env.addresses ?? {};
  if (definition.setupAddresses && Object.keys(addresses).length > 0) {
    addresses = await definition.setupAddresses(addresses, config);
    if (typeof addresses !== 'object' || addresses === null) throw new errors.SY_ERR_SERVICE_DEFINITION(where, 'setupAddresses must return the addresses object');
  }
  let connectionModels: ConnectionModels = definition.connections ?? {};
  if (definition.setupConnections) {
    connectionModels = await definition.setupConnections(connectionModels, config);
    if (typeof connectionModels !== 'object' || connectionModels === null) throw new errors.SY_ERR_SERVICE_DEFINITION(where, 'setupConnections must return the connection models');
  }
  let stateModels: StateModels = definition.states ?? {};
  if (definition.setupStates) {
    stateModels = await definition.setupStates(stateModels, config);
    if (typeof stateModels !== 'object' || stateModels === null) throw new errors.SY_ERR_SERVICE_DEFINITION(where, 'setupStates must return the state models');
  }
  checkModels(where, connectionModels, stateModels);
  if (env.mainMode) {
    if (typeof definition.main !== 'function') throw new errors.SY_ERR_SERVICE_MAIN_MODE(`service ${where} has no main function; add main(toSend, config) or run without -m`);
    if (Object.keys(stateModels.in ?? {}).length > 0) throw new errors.SY_ERR_SERVICE_MAIN_MODE(`inbound states (${Object.keys(stateModels.in ?? {}).join(', ')}) are not allowed, as in the original; remove them or run without -m`);
  }

  const outConnections = new Map<string, OutConnection>();
  const outStates = new Map<string, OutState>();
  const inStates = new Map<string, InState>();

  const statesView = (): StatesView => {
    const view: StatesView = {};
    for (const [name, s] of inStates) view[name] = s.kind === 'full' ? s.value : s.delta.state;
    return view;
  };

  // ---- sending (toSend)
  const send = async (kind: 'connection' | 'state', name: string, args: Args, nextId: () => WorkflowId): Promise<Args> => {
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
        await o.socket.publish(encodeEnvelope(checked, nextId(), o.prefix));
        return {};
      }
      const model = out.model;
      const socket = (out as { socket: RequesterSocket }).socket;
      const replyBytes = await socket.request(encodeEnvelope(checked, nextId()), model.timeoutMs === undefined ? {} : { timeoutMs: model.timeoutMs });
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
        await out.socket.publish(encodeEnvelope(out.args(args), nextId()));
        return {};
      }
      const complete = out.delta.complete(args);
      out.args(complete);
      const frame = encodeEnvelope(complete, nextId());
      // Recorded before the publish resolves: a snapshot served from now on includes it.
      out.delta.record(complete);
      await out.socket.publish(frame);
      return {};
    }
    throw new errors.SY_ERR_SERVICE_OUTPUT(String(kind), name, []);
  };
  const makeToSend = (inboundId: WorkflowId | undefined, increment: boolean): ToSend => {
    const nextId = workflowIds(inboundId, increment);
    return (kind, name, args) => send(kind, name, args, nextId);
  };
  const freeToSend = makeToSend(undefined, false);

  // ---- receiving
  const reject = (kind: 'connection' | 'state', name: string, reason: string, what: string) => {
    log.warn({ [kind]: name, reason }, what);
    emit({ type: 'rejected', kind, name, reason });
  };

  const onRequest = (name: string, model: ReplyerModel) => {
    const check = connectionCheckers(name, model, 'inbound');
    return async (frame: Uint8Array): Promise<Uint8Array> => {
      let envelope;
      try {
        envelope = decodeEnvelope(frame);
      } catch (err) {
        reject('connection', name, reasonOf(err), 'malformed request answered with an error');
        return encodeReply({}, null, reasonOf(err));
      }
      try {
        const args = check.args(envelope.args);
        const handler = model.onNewRequest as (...a: unknown[]) => unknown;
        const pending = handler(args, makeToSend(envelope.workflowId, true), statesView(), config);
        // A handler that answers synchronously costs no extra turn.
        const result = typeof (pending as PromiseLike<unknown> | undefined)?.then === 'function' ? await pending : pending;
        const returnArgs = check.returns(result === undefined ? {} : result);
        const reply = encodeReply(returnArgs, envelope.workflowId);
        emit({ type: 'handled', kind: 'connection', name, workflowId: envelope.workflowId });
        return reply;
      } catch (err) {
        reject('connection', name, reasonOf(err), 'request failed; answered with the error');
        return encodeReply({}, envelope.workflowId, reasonOf(err));
      }
    };
  };

  const onMessage = (name: string, model: SubscriberModel, skip: number) => {
    const check = connectionCheckers(name, model, 'inbound');
    return async (frame: Uint8Array): Promise<void> => {
      try {
        const envelope = decodeEnvelope(frame, skip);
        const args = check.args(envelope.args);
        const handler = model.onNewMessage as (...a: unknown[]) => unknown;
        await handler(args, makeToSend(envelope.workflowId, true), statesView(), config);
        emit({ type: 'handled', kind: 'connection', name, workflowId: envelope.workflowId });
      } catch (err) {
        reject('connection', name, reasonOf(err), err instanceof MalformedFrame ? 'malformed message dropped' : 'message failed; dropped');
      }
    };
  };

  const onStateFrame = (name: string, model: InStateModel, state: InState, requester?: RequesterSocket) => {
    const check = argsChecker(argsModelOf(model), `args of state "${name}"`, state.kind === 'delta' ? { required: DELTA_STATE_ARGS } : {});
    return async (frame: Uint8Array): Promise<void> => {
      try {
        const envelope = decodeEnvelope(frame);
        if (state.kind === 'full') {
          state.value = check(envelope.args);
          emit({ type: 'state', name, outcome: 'replaced' });
          return;
        }
        const args = check(envelope.args);
        const fetchSnapshot = async (): Promise<Snapshot> => {
          log.info({ state: name, have: state.delta.currentNum, got: Number(envelope.args.current_num) }, 'gap in delta updates; requesting a snapshot');
          const bytes = await requester!.request(pack({ args: {} }), { timeoutMs: model.snapshotTimeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS });
          const reply = decodeReply(bytes);
          const snap = reply.returnArgs as Partial<Snapshot>;
          if (reply.error !== undefined || typeof snap.state !== 'object' || snap.state === null || snap.current_num === undefined) {
            throw new errors.SY_ERR_SERVICE_REMOTE(`state ${name}`, reply.error ?? 'the snapshot reply has no state and current_num');
          }
          return snap as Snapshot;
        };
        const outcome = await state.delta.update(args, fetchSnapshot);
        emit({ type: 'state', name, outcome, currentNum: state.delta.currentNum });
      } catch (err) {
        reject('state', name, reasonOf(err), err instanceof MalformedFrame ? 'malformed state update dropped' : 'state update failed; dropped');
      }
    };
  };

  const serial = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => (...a: A) => loop.run(() => fn(...a));

  // ---- opening: inbound connections, outbound connections, then states (the original's order)
  try {
    for (const [name, model] of Object.entries(connectionModels.in ?? {})) {
      const addr = addressesOf(addresses, 'connections', 'in', name, model.connectionType);
      if (model.connectionType === 'replyer') {
        inbound.push(await sockets.replyer(addr.replyer!, serial(onRequest(name, model))));
      } else {
        const prefix = topicPrefixOf(model.topic);
        inbound.push(await sockets.subscriber(addr.subscriber!, prefix, serial(onMessage(name, model, prefix.length))));
      }
    }
    let joinWaitS = 0;
    for (const [name, model] of Object.entries(connectionModels.out ?? {})) {
      const addr = addressesOf(addresses, 'connections', 'out', name, model.connectionType);
      if (model.connectionType === 'requester') {
        const socket = await sockets.requester(addr.requester!);
        outbound.push(socket);
        outConnections.set(name, { model, socket, ...connectionCheckers(name, model, 'outbound') });
      } else if (model.connectionType === 'publisher') {
        const socket = await sockets.publisher(addr.publisher!, { connect: model.isXPub === true });
        outbound.push(socket);
        outConnections.set(name, { model, socket, prefix: topicPrefixOf(model.topic), ...connectionCheckers(name, model, 'outbound') });
        joinWaitS = Math.max(joinWaitS, model.waitAfterCreationS ?? DEFAULT_JOIN_WAIT_S);
      } else {
        outConnections.set(name, { model, ...connectionCheckers(name, model, 'outbound') });
      }
    }
    for (const [name, model] of Object.entries(stateModels.in ?? {})) {
      const addr = addressesOf(addresses, 'states', 'in', name, model.stateType);
      if (model.stateType === 'full_update_in') {
        const state: InState = { kind: 'full', value: {} };
        inStates.set(name, state);
        inbound.push(await sockets.subscriber(addr.subscriber!, new Uint8Array(0), serial(onStateFrame(name, model, state))));
      } else {
        const state: InState = { kind: 'delta', delta: new DeltaStateIn() };
        inStates.set(name, state);
        const requester = await sockets.requester(addr.requester!);
        outbound.push(requester);
        inbound.push(await sockets.subscriber(addr.subscriber!, new Uint8Array(0), serial(onStateFrame(name, model, state, requester))));
      }
    }
    for (const [name, model] of Object.entries(stateModels.out ?? {})) {
      const addr = addressesOf(addresses, 'states', 'out', name, model.stateType);
      const socket = await sockets.publisher(addr.publisher!);
      outbound.push(socket);
      joinWaitS = Math.max(joinWaitS, DEFAULT_JOIN_WAIT_S);
      if (model.stateType === 'full_update_out') {
        outStates.set(name, { model, kind: 'full', socket, args: argsChecker(argsModelOf(model), `args of state "${name}"`) });
      } else {
        const delta = new DeltaStateOut();
        outStates.set(name, { model, kind: 'delta', socket, delta, args: argsChecker(argsModelOf(model), `args of state "${name}"`, { required: DELTA_STATE_ARGS }) });
        // Snapshot requests are answered at once, outside the message loop: no user code runs.
        outbound.push(await sockets.replyer(addr.replyer!, () => {
          const snap = delta.snapshot();
          return encodeReply({ state: snap.state, current_num: snap.current_num }, null);
        }));
      }
    }
    // ZeroMQ's slow joiner: subscriptions need a moment to reach a new publisher.
    if (sockets.slowJoiner && joinWaitS > 0) await new Promise((r) => setTimeout(r, joinWaitS * 1000));
  } catch (err) {
    for (const s of [...inbound, ...outbound].reverse()) await s.close().catch(() => undefined);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  let resolveDone!: () => void;
  let rejectDone!: (err: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => undefined);
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const s of inbound) await s.close().catch((err) => log.warn({ err }, 'closing an inbound socket failed'));
      await loop.idle();
      for (const s of outbound) await s.close().catch((err) => log.warn({ err }, 'closing an outbound socket failed'));
      log.info('service stopped');
    })();
    return stopping;
  };

  log.info({ sockets: sockets.name, in: Object.keys(connectionModels.in ?? {}), out: Object.keys(connectionModels.out ?? {}), states: { in: [...inStates.keys()], out: [...outStates.keys()] } }, 'service started');
  loop.open();

  const running: RunningService = {
    config,
    toSend: freeToSend,
    states: statesView,
    sigint: async (signal = 'SIGINT') => {
      if (definition.sigintHandler) await definition.sigintHandler(signal, freeToSend, statesView(), config);
    },
    stop: () => stop().then(resolveDone),
    done,
  };

  if (env.mainMode) {
    void (async () => {
      try {
        await definition.main!(freeToSend, config);
      } catch (err) {
        await stop();
        rejectDone(err);
        return;
      }
      await stop();
      resolveDone();
    })();
  }
  return running;
}
