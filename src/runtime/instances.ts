// `--instances N`: one Node process is one core, so a service that must use the machine
// runs as N copies of itself under one supervisor (node:cluster), as moleculer-runner's
// `--instances` does. How the copies share the work is the transport's business:
// - queues and listener groups: each copy is one more competing consumer;
// - HTTP and unix sockets: cluster shares the listening handle, the primary hands each
//   connection to one copy (connections: 'primary'), or every copy accepts on the shared
//   socket itself and the kernel picks (connections: 'kernel': no work in the primary per
//   connection, which matters where every request is a new connection, as in acomm);
// - ZeroMQ binds cannot be shared: a service that binds refuses N > 1 (one process per
//   address).
// The supervisor restarts a copy that dies (with the one backoff, reset once a copy has
// run for a while), and on SIGINT/SIGTERM tells every copy to drain and waits for all of
// them; a second signal kills them at once.

import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { errors } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { backoffMs, retryPolicy } from './retry.js';

/** The environment variable a copy finds its number in (1-based). */
export const INSTANCE_ENV = 'SWITCHYARD_INSTANCE';

/** "auto" → the machine's cores; otherwise a whole number ≥ 1. */
export function parseInstances(value: unknown): number {
  if (value === undefined || value === null || value === '') return 1;
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new errors.SY_ERR_USAGE(`--instances must be "auto" or a whole number from 1 to 256, got ${JSON.stringify(value)}`);
  return n;
}

/** True in a copy started by the supervisor: run the services, do not supervise. */
export function isInstance(): boolean {
  return cluster.isWorker;
}

export interface SuperviseOptions {
  readonly instances: number;
  readonly logger: Logger;
  /** A copy that ran this long before dying is restarted at once; quicker deaths back off. Default 10 s. */
  readonly stableAfterMs?: number;
  /**
   * How copies share a listening socket: 'primary' (node:cluster's round robin, the default:
   * the primary accepts each connection and passes it to a copy over IPC) or 'kernel' (the
   * primary only binds; every copy accepts on the one socket and the kernel gives each
   * connection to one of them). NODE_CLUSTER_SCHED_POLICY=rr|none in the environment
   * overrides it.
   */
  readonly connections?: 'primary' | 'kernel';
  /** Stubbable for tests. */
  readonly exit?: (code: number) => void;
}

/**
 * Starts `instances` copies of this process (same script, arguments and environment, plus
 * SWITCHYARD_INSTANCE) and supervises them until a signal; resolves with the exit code once
 * every copy is gone.
 */
export function superviseInstances(options: SuperviseOptions): Promise<number> {
  const { instances, logger } = options;
  const stableAfterMs = options.stableAfterMs ?? 10_000;
  const policy = retryPolicy({ maxAttempts: Number.MAX_SAFE_INTEGER, initialDelayMs: 200, maxDelayMs: 10_000, factor: 2, jitter: 0.5 });
  const slots = new Map<number, { worker: Worker; startedAt: number; quickDeaths: number }>();
  let stopping = false;
  let worstExit = 0;
  // Read by node:cluster at the first fork, and fixed from then on. Node's own
  // NODE_CLUSTER_SCHED_POLICY (rr | none), when set, wins.
  if (options.connections === 'kernel' && !process.env.NODE_CLUSTER_SCHED_POLICY) cluster.schedulingPolicy = cluster.SCHED_NONE;

  return new Promise<number>((resolve) => {
    const start = (slot: number, quickDeaths: number) => {
      if (stopping) return;
      const worker = cluster.fork({ [INSTANCE_ENV]: String(slot) });
      slots.set(slot, { worker, startedAt: Date.now(), quickDeaths });
      worker.once('exit', (code, signal) => {
        const entry = slots.get(slot);
        slots.delete(slot);
        if (stopping) {
          if (code !== 0 && code !== null) worstExit = Math.max(worstExit, code);
          if (slots.size === 0) finish();
          return;
        }
        const ranMs = Date.now() - (entry?.startedAt ?? Date.now());
        const deaths = ranMs >= stableAfterMs ? 0 : (entry?.quickDeaths ?? 0) + 1;
        const delay = deaths === 0 ? 0 : backoffMs(policy, deaths);
        logger.warn({ instance: slot, code, signal, ranMs, restartInMs: delay }, 'instance died; restarting it');
        setTimeout(() => start(slot, deaths), delay);
      });
    };

    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        stopping = true;
        logger.info({ signal, instances: slots.size }, 'stopping: every instance drains (signal again to kill them at once)');
        for (const { worker } of slots.values()) worker.process.kill('SIGTERM');
        if (slots.size === 0) finish();
      } else {
        logger.warn({ signal }, 'second signal: killing every instance now');
        for (const { worker } of slots.values()) worker.process.kill('SIGKILL');
        (options.exit ?? process.exit)(signal === 'SIGINT' ? 130 : 143);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const finish = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(worstExit);
    };

    logger.info({ instances }, `starting ${instances} instance(s)`);
    for (let slot = 1; slot <= instances; slot++) start(slot, 0);
  });
}
