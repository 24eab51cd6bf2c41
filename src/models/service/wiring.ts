// Opening a service's sockets from its plan (startup.ts), in the original's order: inbound
// connections, outbound connections, then states (in, then out); then ZeroMQ's slow-joiner
// wait. Inbound handlers run through the service loop; a delta_update_out state answers
// snapshot requests at once, outside the loop (no user code runs). If one socket cannot be
// opened, the ones already open are closed and the error is thrown.

import type { Edge } from '../../observability/observer.js';
import type { Closable, ReceiveOptions, SocketFactory } from '../../transports/sockets.js';
import { addressesOf } from './addresses.js';
import { argsChecker, argsModelOf, wireMarker } from './args-model.js';
import type { Addresses, ConnectionModels, StateModels, StatesView } from './definition.js';
import { DELTA_STATE_ARGS, DeltaStateIn, DeltaStateOut } from './delta-state.js';
import { messageHandler, requestHandler, stateHandler, type InboundContext, type InState } from './inbound.js';
import { ADDRESS_KEYS } from './model-check.js';
import { connectionCheckers, type Sender } from './outbound.js';
import type { ServiceReporter } from './reporter.js';
import type { SerialLoop } from './serial-loop.js';
import type { ServicePlan } from './startup.js';
import { encodeReply, topicPrefixOf } from './wire/envelope.js';

const DEFAULT_JOIN_WAIT_S = 0.15;

/** The open sockets of one service. */
export interface Wiring {
  /** Closed first when stopping: no new work. */
  readonly inbound: readonly Closable[];
  /** Closed after the loop is idle. */
  readonly outbound: readonly Closable[];
  readonly inStates: ReadonlyMap<string, InState>;
}

export interface WiringDeps {
  readonly sockets: SocketFactory;
  readonly sender: Sender;
  readonly loop: SerialLoop;
  readonly report: ServiceReporter;
  readonly inbound: InboundContext;
  /** Per receiving socket; undefined: the factory's. */
  readonly maxMessageSize?: number;
}

/** The current value of every inbound state (a full state: the last args; a delta state: its dict). */
export function statesViewOf(inStates: ReadonlyMap<string, InState>): StatesView {
  const view: StatesView = {};
  for (const [name, s] of inStates) view[name] = s.kind === 'full' ? s.value : s.delta.state;
  return view;
}

export async function openWiring(plan: ServicePlan, deps: WiringDeps, inStates: Map<string, InState>): Promise<Wiring> {
  const { sockets, sender, loop, report, inbound: ctx } = deps;
  const { addresses } = plan;
  const inbound: Closable[] = [];
  const outbound: Closable[] = [];
  const receiving: ReceiveOptions = deps.maxMessageSize === undefined ? {} : { maxMessageSize: deps.maxMessageSize };
  const serial = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => (...a: A) => loop.run(() => fn(...a));
  try {
    for (const [name, model] of Object.entries(plan.connections.in ?? {})) {
      const addr = addressesOf(addresses, 'connections', 'in', name, model.connectionType);
      if (model.connectionType === 'replyer') {
        inbound.push(await sockets.replyer(addr.replyer!, serial(requestHandler(ctx, name, model)), receiving));
      } else {
        const prefix = topicPrefixOf(model.topic);
        inbound.push(await sockets.subscriber(addr.subscriber!, prefix, serial(messageHandler(ctx, name, model, prefix.length)), receiving));
      }
    }
    let joinWaitS = 0;
    for (const [name, model] of Object.entries(plan.connections.out ?? {})) {
      const addr = addressesOf(addresses, 'connections', 'out', name, model.connectionType);
      if (model.connectionType === 'requester') {
        const socket = await sockets.requester(addr.requester!, receiving);
        outbound.push(socket);
        sender.connections.set(name, { model, socket, address: addr.requester!, ...connectionCheckers(name, model, 'outbound') });
      } else if (model.connectionType === 'publisher') {
        const socket = await sockets.publisher(addr.publisher!, { connect: model.isXPub === true });
        outbound.push(socket);
        sender.connections.set(name, { model, socket, prefix: topicPrefixOf(model.topic), ...connectionCheckers(name, model, 'outbound') });
        joinWaitS = Math.max(joinWaitS, model.waitAfterCreationS ?? DEFAULT_JOIN_WAIT_S);
      } else {
        sender.connections.set(name, { model, ...connectionCheckers(name, model, 'outbound') });
      }
    }
    for (const [name, model] of Object.entries(plan.states.in ?? {})) {
      const addr = addressesOf(addresses, 'states', 'in', name, model.stateType);
      const prefix = topicPrefixOf(model.topic);
      if (model.stateType === 'full_update_in') {
        const state: InState = { kind: 'full', value: {} };
        inStates.set(name, state);
        inbound.push(await sockets.subscriber(addr.subscriber!, prefix, serial(stateHandler(ctx, name, model, state, prefix.length)), receiving));
      } else {
        const state: InState = { kind: 'delta', delta: new DeltaStateIn() };
        inStates.set(name, state);
        const requester = await sockets.requester(addr.requester!, receiving);
        outbound.push(requester);
        inbound.push(await sockets.subscriber(addr.subscriber!, prefix, serial(stateHandler(ctx, name, model, state, prefix.length, requester)), receiving));
      }
    }
    for (const [name, model] of Object.entries(plan.states.out ?? {})) {
      const addr = addressesOf(addresses, 'states', 'out', name, model.stateType);
      const socket = await sockets.publisher(addr.publisher!, { connect: model.isXPub === true });
      outbound.push(socket);
      joinWaitS = Math.max(joinWaitS, model.waitAfterCreationS ?? DEFAULT_JOIN_WAIT_S);
      const prefix = topicPrefixOf(model.topic);
      const args = argsChecker(argsModelOf(model), `args of state "${name}"`, model.stateType === 'delta_update_out' ? { required: DELTA_STATE_ARGS } : {});
      const toWire = wireMarker(argsModelOf(model));
      if (model.stateType === 'full_update_out') {
        sender.states.set(name, { model, kind: 'full', socket, prefix, args, toWire });
      } else {
        const delta = new DeltaStateOut();
        sender.states.set(name, { model, kind: 'delta', socket, prefix, delta, args, toWire });
        outbound.push(await sockets.replyer(addr.replyer!, () => {
          const snap = delta.snapshot();
          report.log.debug({ state: name, currentNum: snap.current_num }, 'snapshot served');
          return encodeReply({ state: snap.state, current_num: snap.current_num }, null);
        }, receiving));
      }
    }
    // ZeroMQ's slow joiner: subscriptions need a moment to reach a new publisher.
    if (sockets.slowJoiner && joinWaitS > 0) await new Promise((r) => setTimeout(r, joinWaitS * 1000));
  } catch (err) {
    for (const s of [...inbound, ...outbound].reverse()) await s.close().catch(() => undefined);
    throw err;
  }
  return { inbound, outbound, inStates };
}

/** Where one connection or state's sockets are, for an edge's label ("replyer 127.0.0.1:8899"); undefined when not known yet. */
function addressLabel(addresses: Addresses | undefined, group: 'connections' | 'states', side: 'in' | 'out', name: string, type: string): string | undefined {
  const entry = addresses?.[group]?.[side]?.[name];
  if (!entry || typeof entry !== 'object') return undefined;
  const parts = (ADDRESS_KEYS[type] ?? []).filter((k) => typeof entry[k] === 'string').map((k) => `${k} ${entry[k]}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/**
 * The edges of a service: inbound connections ("socket") and states ("state") with their
 * addresses, then its outbound connections (an external request is an "rpc") and states.
 * Outputs carry no label, so they match the outputs its events name.
 */
export function serviceEdges(connections: ConnectionModels, states: StateModels, addresses?: Addresses): { readonly inputs: Edge[]; readonly outputs: Edge[] } {
  const withLabel = (edge: Edge, label: string | undefined): Edge => (label === undefined ? edge : { ...edge, label });
  const inputs: Edge[] = [
    ...Object.entries(connections.in ?? {}).map(([name, m]) => withLabel({ kind: 'socket', name }, addressLabel(addresses, 'connections', 'in', name, m.connectionType))),
    ...Object.entries(states.in ?? {}).map(([name, m]) => withLabel({ kind: 'state', name }, addressLabel(addresses, 'states', 'in', name, m.stateType))),
  ];
  const outputs: Edge[] = [
    ...Object.entries(connections.out ?? {}).map(([name, m]): Edge => ({ kind: m.connectionType === 'external_request' ? 'rpc' : 'socket', name })),
    ...Object.entries(states.out ?? {}).map(([name]): Edge => ({ kind: 'state', name })),
  ];
  return { inputs, outputs };
}
