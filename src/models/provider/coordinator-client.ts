// The coordinator client: finds the providers of a task by listing {socket_dir}/{task},
// tries them highest priority first, skips stale sockets (connection refused: the process
// is gone, its file stayed), and waits for the response on its own response-hook socket.
// A provider is only failed over while nothing was delivered: once one acked, its answer
// (or the timeout) is the outcome, so a handler never runs twice for one request.

import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errors } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import {
  decodeResponse, encodeRequest, exchange, readStream, openStream, UnixConnectError, type ExchangeOptions,
} from '../../transports/unix/mod.js';
import type { Readable } from 'node:stream';
import { RequestTracker } from './request-tracker.js';
import { isPathName } from './settings.js';

export interface ProviderSocket {
  readonly path: string;
  readonly priority: number;
  readonly service: string;
}

const SOCKET_NAME = /^(\d+)-(.+)\.sock$/;

/** The task's provider sockets, highest priority first (ties by service name, for a stable order). */
export async function discoverProviders(socketDir: string, task: string): Promise<ProviderSocket[]> {
  if (!isPathName(task)) throw new errors.SY_ERR_USAGE(`task name ${JSON.stringify(task)} is not valid: task names are folder names under socket_dir (letters, digits, ".", "_", "-")`);
  let names: string[];
  try {
    names = await readdir(join(socketDir, task));
  } catch {
    return [];
  }
  const found: ProviderSocket[] = [];
  for (const name of names) {
    const m = SOCKET_NAME.exec(name);
    if (m) found.push({ path: join(socketDir, task, name), priority: Number(m[1]), service: m[2]! });
  }
  return found.sort((a, b) => b.priority - a.priority || a.service.localeCompare(b.service));
}

export interface TaskResponse {
  readonly id: string;
  readonly result: unknown;
  /** Set when the provider answered with a stream: read it with openStream()/readStream(). */
  readonly streamUrl: string | null;
  /** The socket of the provider that served the request. */
  readonly provider: ProviderSocket;
}

export interface RequestOptions {
  /** Wait for the response this long. Default: the client's timeoutMs. */
  readonly timeoutMs?: number;
  /** Request id; default a random UUID. */
  readonly id?: string;
}

export interface CoordinatorClientOptions {
  readonly socketDir: string;
  /** This client's response-hook socket. Default {socket_dir}/response/coordinator-{pid}-{random}.sock. */
  readonly responseSocketPath?: string;
  /** Use this started tracker instead of one of its own (a provider shares its tracker). */
  readonly tracker?: RequestTracker;
  /** Default wait for a response. Default 60000 ms. */
  readonly timeoutMs?: number;
  readonly exchange?: ExchangeOptions;
  /**
   * How long a task folder's listing is reused, ms. Default 1000; 0 = list on every request.
   * A socket that fails to connect drops the listing at once, so a provider that stopped or
   * died is never retried from the cache; a provider that started is seen within this time.
   */
  readonly discoveryCacheMs?: number;
  readonly logger?: Logger;
}

interface Listing {
  readonly at: number;
  readonly sockets: Promise<ProviderSocket[]>;
  /** The sockets, once listed. */
  listed: ProviderSocket[] | undefined;
}

export class CoordinatorClient {
  readonly socketDir: string;
  readonly tracker: RequestTracker;
  private readonly ownTracker: boolean;
  private readonly listings = new Map<string, Listing>();

  constructor(private readonly options: CoordinatorClientOptions) {
    this.socketDir = options.socketDir;
    this.ownTracker = options.tracker === undefined;
    this.tracker = options.tracker ?? new RequestTracker({
      socketPath: options.responseSocketPath ?? join(options.socketDir, 'response', `coordinator-${process.pid}-${randomUUID().slice(0, 8)}.sock`),
      defaultTimeoutMs: options.timeoutMs ?? 60_000,
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  async start(): Promise<this> {
    if (this.ownTracker) await this.tracker.start();
    return this;
  }

  async stop(): Promise<void> {
    if (this.ownTracker) await this.tracker.stop();
  }

  /** The task's provider sockets, highest priority first, freshly listed. */
  discover(task: string): Promise<ProviderSocket[]> {
    return discoverProviders(this.socketDir, task);
  }

  /** The listing to try, and whether it came from the cache (so may be out of date). */
  private candidates(task: string): { sockets: ProviderSocket[]; cached: boolean } | Promise<{ sockets: ProviderSocket[]; cached: boolean }> {
    const ttl = this.options.discoveryCacheMs ?? 1_000;
    if (ttl <= 0) return this.discover(task).then((sockets) => ({ sockets, cached: false }));
    const now = performance.now();
    const entry = this.listings.get(task);
    if (entry && now - entry.at < ttl) {
      // Read once the listing is in: no promise to wait for on the way of every request.
      if (entry.listed !== undefined) return { sockets: entry.listed, cached: true };
      return entry.sockets.then((sockets) => ({ sockets, cached: true }));
    }
    const sockets = this.discover(task);
    const fresh: Listing = { at: now, sockets, listed: undefined };
    void sockets.then((listed) => (fresh.listed = listed), () => undefined);
    this.listings.set(task, fresh);
    return sockets.then((s) => ({ sockets: s, cached: false }));
  }

  /** Sends a request for `task` to its best live provider and resolves with the response; a response error throws SY_ERR_TASK_FAILED. */
  async request(task: string, args: unknown = null, options: RequestOptions = {}): Promise<TaskResponse> {
    const id = options.id ?? randomUUID();
    const json = encodeRequest({ id, task, responseHook: this.tracker.url, args });
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs ?? this.tracker.defaultTimeoutMs;
    // Tracked before sending: the response may arrive before the ack has been read.
    const answer = this.tracker.track(id, timeoutMs);
    const tried = new Set<string>();
    let served: ProviderSocket | undefined;
    try {
      const first = this.candidates(task);
      let listing = first instanceof Promise ? await first : first;
      served = await this.sendToFirst(task, json, listing.sockets, tried);
      // Every socket of a cached listing failed: the folder has changed, so list it afresh once.
      if (!served && listing.cached) {
        this.listings.delete(task);
        listing = await this.candidates(task);
        served = await this.sendToFirst(task, json, listing.sockets.filter((s) => !tried.has(s.path)), tried);
      }
    } catch (err) {
      this.tracker.remove(id);
      throw err;
    }
    if (!served) {
      this.tracker.remove(id);
      throw new errors.SY_ERR_NO_PROVIDER(task, join(this.socketDir, task), tried.size);
    }
    const { response, timedOut } = await answer;
    if (timedOut) throw new errors.SY_ERR_TASK_TIMEOUT(task, timeoutMs, `provider ${served.service} acked but sent no response; raise the timeout or check its logs`);
    if (response.error !== '') throw new errors.SY_ERR_TASK_FAILED(task, response.error);
    return { id, result: response.result, streamUrl: response.streamUrl, provider: served };
  }

  /**
   * Offers the request to each socket in order until one acks. No ack (refused, missing,
   * cut before the ack) means nothing was accepted, so the next may take it; an ack with an
   * error is the provider's refusal and ends the request.
   */
  private async sendToFirst(task: string, json: string, sockets: readonly ProviderSocket[], tried: Set<string>): Promise<ProviderSocket | undefined> {
    for (const candidate of sockets) {
      tried.add(candidate.path);
      let ack;
      try {
        ack = decodeResponse(await exchange(candidate.path, json, this.options.exchange));
      } catch (err) {
        this.listings.delete(task);
        this.options.logger?.debug({ task, socket: candidate.path, err: (err as Error).message, stale: err instanceof UnixConnectError && err.reason === 'ECONNREFUSED' }, 'provider unreachable; trying the next');
        continue;
      }
      if (ack.error !== '') throw new errors.SY_ERR_TASK_FAILED(task, `the provider ${candidate.service} refused the request: ${ack.error}`);
      return candidate;
    }
    return undefined;
  }

  /** The bytes of a stream URL from a response. */
  openStream(url: string): Promise<Readable> {
    return openStream(url);
  }

  readStream(url: string): Promise<Buffer> {
    return readStream(url);
  }
}

/** A started coordinator client. */
export async function coordinatorClient(options: CoordinatorClientOptions): Promise<CoordinatorClient> {
  return new CoordinatorClient(options).start();
}
