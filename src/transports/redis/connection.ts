// THE connection layer of everything Switchyard does on Redis (the generic transport and
// the Lightbus bus alike): one way to open, name, authenticate, reconnect and log a
// connection, and one error when Redis cannot be reached.
//
// - Open: ioredis from the URL (redis://[user:password@]host:port[/db], rediss:// for
//   TLS; the user's extra ioredis options apply to every connection), lazily; connect()
//   connects and fails with SY_ERR_BROKER naming the URL without its password and what to
//   check.
// - Name: CLIENT SETNAME switchyard-{role}, so CLIENT LIST tells what each one is for.
// - Reconnect: forever, with THE backoff (src/backoff.ts backoffMs: doubling from 50 ms
//   up to 2 s, with jitter, so a crowd of clients does not come back in lockstep).
// - Log: an outage once per set of connections (a transport's), on its first connection
//   lost ("lost the connection to Redis; reconnecting with backoff") and when its primary
//   connection is back ("reconnected to Redis"); each connection's own errors at debug.
//   The URL's password never reaches a log line or an error.
// - Kinds: 'commands' (auto-pipelined: the commands of one turn of the event loop leave in
//   one write), 'direct' (each command written at once: one call's latency over batching),
//   'blocking' (a reader that blocks: no ready check, waits out outages), 'subscriber'.

import { Redis, type RedisOptions } from 'ioredis';
import { errors, redactUrl } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { backoffMs, type RetryPolicy } from '../../backoff.js';

/** How a connection reconnects: THE backoff, forever (maxAttempts is never consulted here). */
export const RECONNECT: RetryPolicy = { maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 50, maxDelayMs: 2_000, factor: 2, jitter: 0.5 };

/** ioredis's retryStrategy: the delay before reconnect attempt `times` (1-based). */
export const reconnectDelay = (times: number): number => backoffMs(RECONNECT, times);

export type ConnectionKind = 'commands' | 'direct' | 'blocking' | 'subscriber';

const KIND_OPTIONS: Record<ConnectionKind, RedisOptions> = {
  commands: { enableAutoPipelining: true },
  direct: { enableAutoPipelining: false },
  // A blocked connection can do nothing else; it waits out an outage and re-issues its read.
  blocking: { enableAutoPipelining: false, maxRetriesPerRequest: null, enableReadyCheck: false },
  subscriber: { enableAutoPipelining: false, maxRetriesPerRequest: null },
};

export interface RedisConnectionsOptions {
  /** redis://[user:password@]host:port[/db] (or rediss://). */
  readonly url: string;
  readonly logger: Logger;
  /** Extra ioredis options (TLS, timeouts, ...), applied to every connection. */
  readonly redis?: RedisOptions;
}

/** The connections of one transport: opened, named, logged and closed here. */
export class RedisConnections {
  /** The URL without its password, for logs and errors. */
  readonly where: string;
  private readonly log: Logger;
  private readonly open = new Set<Redis>();
  private primary: Redis | undefined;
  private down = false;
  private closed = false;

  constructor(private readonly options: RedisConnectionsOptions) {
    this.where = redactUrl(options.url);
    this.log = options.logger;
  }

  /**
   * A new connection, not connected yet (connect() it, or let its first command do it).
   * The first 'commands' connection is the primary: its return ends a logged outage.
   */
  create(role: string, kind: ConnectionKind, extra: RedisOptions = {}): Redis {
    const redis = new Redis(this.options.url, {
      lazyConnect: true,
      connectTimeout: 10_000,
      retryStrategy: reconnectDelay,
      connectionName: `switchyard-${role}`,
      ...this.options.redis,
      ...KIND_OPTIONS[kind],
      ...extra,
    });
    if (kind === 'commands') this.primary ??= redis;
    this.open.add(redis);
    redis.on('end', () => {
      this.open.delete(redis);
      if (this.primary === redis) this.primary = undefined;
    });
    redis.on('error', (err: Error) => this.log.debug({ role, server: this.where, err: err.message }, 'redis connection error'));
    redis.on('close', () => {
      if (this.closed || this.down || redis.status === 'end' || !this.open.has(redis)) return;
      this.down = true;
      this.log.warn({ role, server: this.where }, 'lost the connection to Redis; reconnecting with backoff');
    });
    redis.on('ready', () => {
      // Back once the primary is (a reader may come back first, or be the only one lost).
      if (!this.down || this.closed || (this.primary && this.primary !== redis && this.primary.status !== 'ready')) return;
      this.down = false;
      this.log.info({ role, server: this.where }, 'reconnected to Redis');
    });
    return redis;
  }

  /** create() and connect; SY_ERR_BROKER (the URL without its password, what to check) when Redis cannot be reached. */
  async connect(role: string, kind: ConnectionKind, extra: RedisOptions = {}): Promise<Redis> {
    const redis = this.create(role, kind, extra);
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      throw this.unreachable(err);
    }
    return redis;
  }

  /** The one error for a Redis that cannot be reached. */
  unreachable(err: unknown): Error {
    return new errors.SY_ERR_BROKER(
      `Redis at ${this.where}`,
      `could not connect (${(err as Error)?.message ?? String(err)}); check that Redis runs there and that the URL's host, port, database and password are right`,
    );
  }

  /** True once closeAll() ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Disconnects every connection still open (blocked reads end with a closed-connection
   * error) but those in `except`, which the caller closes itself (QUIT after its writes).
   */
  closeAll(except: readonly Redis[] = []): void {
    this.closed = true;
    for (const redis of this.open) if (!except.includes(redis)) redis.disconnect();
  }
}

/** True for the error a command gets when its connection is closed on purpose. */
export function isClosedError(error: unknown): boolean {
  const message = (error as Error)?.message ?? '';
  return /Connection is closed|Connection manually closed/i.test(message);
}

/**
 * How long a stop waits for writes to Redis (acks, results, leaving a server set) while
 * Redis does not answer. A stop must end: ioredis keeps commands queued on a reconnecting
 * connection, and one that is then disconnected never settles them.
 */
export const STOP_GRACE_MS = 2_000;

/** QUIT, or (Redis not answering within the grace) a plain disconnect. */
export async function closeConnection(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await unlessStopped(redis.quit().catch(() => undefined), unrefSleep(STOP_GRACE_MS));
  redis.disconnect();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A wait that does not keep the process alive by itself. */
export const unrefSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Resolves as `work` does, or with undefined once `stop` resolves (whichever is first).
 * Bound many waits (one per read, per ack) by a Signal, not by its promise: each wait on a
 * promise leaves a reaction on it that lives until it resolves (measured: ~460 bytes per
 * wait, kept until stop), a wait on a Signal leaves nothing once it settled.
 */
export function unlessStopped<T>(work: Promise<T>, stop: Promise<void> | Signal): Promise<T | undefined> {
  if (stop instanceof Promise) return Promise.race([work, stop.then(() => undefined)]);
  return new Promise<T | undefined>((resolve, reject) => {
    const unwatch = stop.watch(() => resolve(undefined));
    work.then(
      (value) => {
        unwatch();
        resolve(value);
      },
      (error: unknown) => {
        unwatch();
        reject(error);
      },
    );
  });
}

/** Something that happens once (a stop beginning, a grace ending), settled from outside. */
export interface Signal {
  readonly promise: Promise<void>;
  resolve(): void;
  /** Calls `fn` when resolved (at once if it is); the returned function forgets it, leaving nothing behind. */
  watch(fn: () => void): () => void;
  /** How many watchers wait now. */
  readonly watching: number;
}

const NOTHING = (): void => undefined;

/** A promise settled from outside: `stopped.resolve()` once stopping begins. */
export function signal(): Signal {
  let settle: () => void = NOTHING;
  const promise = new Promise<void>((r) => (settle = r));
  const watchers = new Set<() => void>();
  let resolved = false;
  return {
    promise,
    resolve: () => {
      if (resolved) return;
      resolved = true;
      settle();
      for (const fn of watchers) fn();
      watchers.clear();
    },
    watch: (fn) => {
      if (resolved) {
        fn();
        return NOTHING;
      }
      watchers.add(fn);
      return () => void watchers.delete(fn);
    },
    get watching() {
      return watchers.size;
    },
  };
}

/** Resolves STOP_GRACE_MS after `from` resolved. */
export function graceAfter(from: Promise<void>): Signal {
  const grace = signal();
  void from.then(() => unrefSleep(STOP_GRACE_MS)).then(grace.resolve);
  return grace;
}
