// Runs one service (SPECS.md §2.5): config, addresses, connections, states, then the service
// loop (serial-loop.ts), on any SocketFactory (ZeroMQ or in-process). Sending is outbound.ts,
// receiving inbound.ts.

import { errors } from '../../errors.js';
import { createLogger, type Logger } from '../../observability/logger.js';
import { warnLimiter } from '../../observability/warn-limiter.js';
import type { Closable, SocketFactory } from '../../transports/sockets.js';
import { argsChecker, argsModelOf, wireMarker } from './args-model.js';
import { DELTA_STATE_ARGS, DeltaStateIn, DeltaStateOut } from './delta-state.js';
import type { Addresses, Config, ConnectionModels, FlatAddresses, ServiceDefinition, StateModels, StatesView, ToSend } from './definition.js';
import {
  messageHandler, requestHandler, stateHandler, type InboundContext, type InState, type ServiceEvent,
} from './inbound.js';
import { addressesOf, normalizeAddresses } from './addresses.js';
import { checkModels } from './model-check.js';
import { connectionCheckers, createSender, type OutConnection, type OutState } from './outbound.js';
import { SerialLoop } from './serial-loop.js';
import { setupServiceConfig } from './service-config.js';
import { encodeReply, topicPrefixOf, type WorkflowId } from './wire/envelope.js';
import { workflowIds } from './workflow-ids.js';

export type { ServiceEvent };

export interface ServiceEnvironment {
  readonly sockets: SocketFactory;
  /** addresses.json's content: nested (0.0.3) or flat (0.0.19+, connections only). */
  readonly addresses?: Addresses | FlatAddresses;
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


const DEFAULT_JOIN_WAIT_S = 0.15;


export async function startService(definition: ServiceDefinition, env: ServiceEnvironment): Promise<RunningService> {
  const where = env.name ?? definition.name ?? 'service';
  const log = (env.logger ?? createLogger({ level: 'silent' })).child({ service: where });
  const sockets = env.sockets;
  const emit = env.onEvent ?? (() => undefined);
  const loop = new SerialLoop();
  const inbound: Closable[] = [];
  const outbound: Closable[] = [];

  const config = await setupServiceConfig(definition, env.config ?? {}, where);

  let rawAddresses: Addresses | FlatAddresses = env.addresses ?? {};
  if (definition.setupAddresses && Object.keys(rawAddresses).length > 0) {
    rawAddresses = await definition.setupAddresses(rawAddresses, config);
    if (typeof rawAddresses !== 'object' || rawAddresses === null) throw new errors.SY_ERR_SERVICE_DEFINITION(where, 'setupAddresses must return the addresses object');
  }
  const addresses = normalizeAddresses(rawAddresses);
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

  const send = createSender(outConnections, outStates);
  const makeToSend = (inboundId: WorkflowId | undefined, increment: boolean): ToSend => {
    const nextId = workflowIds(inboundId, increment);
    return (kind, name, args) => send(kind, name, args, nextId);
  };
  const freeToSend = makeToSend(undefined, false);

  let stopping: Promise<void> | undefined;
  const warnings = warnLimiter(log);
  const ctx: InboundContext = {
    log, emit, config, statesView, makeToSend,
    warn: warnings.warn,
    serial: (work) => loop.run(work),
    stopping: () => stopping !== undefined,
  };
  const serial = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => (...a: A) => loop.run(() => fn(...a));

  // ---- opening: inbound connections, outbound connections, then states (the original's order)
  try {
    for (const [name, model] of Object.entries(connectionModels.in ?? {})) {
      const addr = addressesOf(addresses, 'connections', 'in', name, model.connectionType);
      if (model.connectionType === 'replyer') {
        inbound.push(await sockets.replyer(addr.replyer!, serial(requestHandler(ctx, name, model))));
      } else {
        const prefix = topicPrefixOf(model.topic);
        inbound.push(await sockets.subscriber(addr.subscriber!, prefix, serial(messageHandler(ctx, name, model, prefix.length))));
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
      const prefix = topicPrefixOf(model.topic);
      if (model.stateType === 'full_update_in') {
        const state: InState = { kind: 'full', value: {} };
        inStates.set(name, state);
        inbound.push(await sockets.subscriber(addr.subscriber!, prefix, serial(stateHandler(ctx, name, model, state, prefix.length))));
      } else {
        const state: InState = { kind: 'delta', delta: new DeltaStateIn() };
        inStates.set(name, state);
        const requester = await sockets.requester(addr.requester!);
        outbound.push(requester);
        inbound.push(await sockets.subscriber(addr.subscriber!, prefix, serial(stateHandler(ctx, name, model, state, prefix.length, requester))));
      }
    }
    for (const [name, model] of Object.entries(stateModels.out ?? {})) {
      const addr = addressesOf(addresses, 'states', 'out', name, model.stateType);
      const socket = await sockets.publisher(addr.publisher!, { connect: model.isXPub === true });
      outbound.push(socket);
      joinWaitS = Math.max(joinWaitS, model.waitAfterCreationS ?? DEFAULT_JOIN_WAIT_S);
      const prefix = topicPrefixOf(model.topic);
      if (model.stateType === 'full_update_out') {
        outStates.set(name, { model, kind: 'full', socket, prefix, args: argsChecker(argsModelOf(model), `args of state "${name}"`), toWire: wireMarker(argsModelOf(model)) });
      } else {
        const delta = new DeltaStateOut();
        outStates.set(name, { model, kind: 'delta', socket, prefix, delta, args: argsChecker(argsModelOf(model), `args of state "${name}"`, { required: DELTA_STATE_ARGS }), toWire: wireMarker(argsModelOf(model)) });
        // Snapshot requests are answered at once, outside the message loop: no user code runs.
        outbound.push(await sockets.replyer(addr.replyer!, () => {
          const snap = delta.snapshot();
          emit({ type: 'snapshot-served', name, currentNum: snap.current_num });
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
      warnings.flush();
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
