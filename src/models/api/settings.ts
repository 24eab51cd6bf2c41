// The per-API settings a bus applies (Lightbus's `apis.<name>` config, camelCased), with
// Lightbus's defaults.

import { errors } from '../../errors.js';

export interface ApiSettings {
  /** How long a caller waits for an RPC result. Lightbus rpc_timeout: 5 s. */
  readonly rpcTimeoutMs: number;
  /** How long fire() waits for the transport to store an event. Lightbus: 5 s. */
  readonly eventFireTimeoutMs: number;
  /** Check what this process sends (outgoing) and what it receives (incoming). */
  readonly validate: { readonly outgoing: boolean; readonly incoming: boolean };
  /** Refuse to call or fire on an API whose schema is neither local nor on the bus. */
  readonly strictValidation: boolean;
}

export const DEFAULT_API_SETTINGS: ApiSettings = {
  rpcTimeoutMs: 5_000,
  eventFireTimeoutMs: 5_000,
  validate: { outgoing: true, incoming: true },
  strictValidation: false,
};

export interface ListenerSettings {
  /** Events handed to one listener at once. Lightbus batch_size: 10. */
  readonly prefetch: number;
  /** An event held unacked this long is given to another member (Lightbus acknowledgement_timeout, 60 s). */
  readonly reclaimIdleMs: number;
  /** Handler failures before an event is set aside with the reason. */
  readonly maxAttempts: number;
}

export const DEFAULT_LISTENER_SETTINGS: ListenerSettings = { prefetch: 10, reclaimIdleMs: 60_000, maxAttempts: 5 };

/**
 * Production mode is NODE_ENV=production (as Node libraries read it). There, error results
 * carry no stack trace to callers unless SWITCHYARD_REMOTE_TRACES=true; elsewhere they do
 * (as Lightbus's) unless SWITCHYARD_REMOTE_TRACES=false.
 */
export function remoteTracesByDefault(env: NodeJS.ProcessEnv = process.env): boolean {
  const set = env.SWITCHYARD_REMOTE_TRACES?.trim().toLowerCase();
  if (set === 'true' || set === '1' || set === 'yes') return true;
  if (set === 'false' || set === '0' || set === 'no') return false;
  if (set !== undefined && set !== '') throw new errors.SY_ERR_BUS_CONFIG('SWITCHYARD_REMOTE_TRACES', [`expected true or false, got ${JSON.stringify(env.SWITCHYARD_REMOTE_TRACES)}`]);
  return env.NODE_ENV !== 'production';
}
