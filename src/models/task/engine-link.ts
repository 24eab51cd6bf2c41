// The service's life as one engine sees it (the current core-engine and common-code):
//   1. announce (registration.ts): POST /services, or on 409 look up the id and PATCH it;
//   2. heartbeat: every `heartbeatMs`, POST /services/{slug}/ping with the service JSON. The
//      engine marks a service `sleeping` when no ping came within its check interval + 20 s
//      (30 s + 20 s by default). A ping answered 404 "Service Not Found" means the engine
//      does not know the service (it restarted with a fresh database, or lost it): announce
//      again at once. A 404 "Not Found" means no such route (an engine from before
//      heartbeats, which polls GET /status instead): pings to it stop;
//   3. on shutdown, before the server stops: GET /services/slug/{slug} for the id, then
//      PATCH /services/{id} {"status": "sleeping"}, once, bounded in time.
// An engine that was down past the announce retries is picked up by the heartbeat: once it
// answers, its 404 makes the service announce itself. Each ping is reported as a call to
// "engine-ping", the shutdown notice as one to "engine-status".

import { redactUrl } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { LimitedWarn } from '../../observability/warn-limiter.js';
import { sleepUnlessAborted, type RetryPolicy } from '../../runtime/retry.js';
import { httpFailureReason } from '../../transports/http/http-client.js';
import { announce, ENGINE_REPLY_CAP_BYTES, registerWithEngine, type EngineWire, type RegistrationOutcome } from './registration.js';
import type { ServiceRegistration } from './wire.js';

/** Longest the shutdown notice may take per engine (GET and PATCH together). */
export const SLEEPING_NOTICE_TIMEOUT_MS = 5_000;

export interface EngineLinkOptions {
  readonly wire: EngineWire;
  readonly engine: string;
  readonly body: ServiceRegistration;
  readonly announceRetry: RetryPolicy;
  /** 0 = no heartbeat. */
  readonly heartbeatMs: number;
  readonly log: Logger;
  /** Rate-limited warnings (an engine that stays down must not fill the log). */
  readonly warn: LimitedWarn;
}

export interface EngineLink {
  readonly engine: string;
  /** Settles once the first announce succeeded or was given up on. */
  readonly registration: Promise<RegistrationOutcome>;
  /** Stops announcing and pinging; resolves once the loop has ended. */
  stop(): Promise<void>;
  /** Tells the engine the service is sleeping (after stop()); never throws. */
  sleep(): Promise<void>;
}

export function linkEngine(options: EngineLinkOptions): EngineLink {
  const { wire, engine, body, log, warn } = options;
  const base = engine.replace(/\/+$/, '');
  const id = redactUrl(engine);
  const stopping = new AbortController();

  const beat = async (): Promise<'go-on' | 'no-heartbeats'> => {
    const started = performance.now();
    try {
      const res = await wire.call(`${base}/services/${encodeURIComponent(body.slug)}/ping`, {
        method: 'POST', json: body, timeoutMs: Math.min(10_000, Math.max(1_000, options.heartbeatMs)),
        signal: stopping.signal, maxResponseBytes: ENGINE_REPLY_CAP_BYTES,
      });
      wire.events.called('engine-ping', id, performance.now() - started, res.status === 200 ? undefined : `the engine answered ${res.status}`);
      if (res.status === 200) return 'go-on';
      if (res.status === 404 && (res.json() as { detail?: unknown } | undefined)?.detail === 'Not Found') {
        log.info({ engine }, 'the engine has no heartbeat route (POST /services/{slug}/ping; an engine from before heartbeats, which checks GET /status instead): no more heartbeats to it');
        return 'no-heartbeats';
      }
      if (res.status === 404) {
        warn(`heartbeat-unknown ${engine}`, { engine }, 'the engine does not know this service (it restarted or lost it): announcing again');
        const again = await announce(wire, engine, body, stopping.signal);
        if (again.ok) log.info({ engine, how: again.how }, 'announced to the engine again');
        else if (!stopping.signal.aborted) warn(`heartbeat-announce ${engine}`, { engine, reason: again.why }, 'announcing again failed; the next heartbeat tries again');
        return 'go-on';
      }
      warn(`heartbeat-status ${engine}`, { engine, status: res.status }, 'the engine answered the heartbeat with an error; the next heartbeat tries again');
    } catch (err) {
      if (stopping.signal.aborted) return 'go-on';
      wire.events.called('engine-ping', id, performance.now() - started, err);
      warn(`heartbeat-down ${engine}`, { engine, reason: httpFailureReason(err) }, 'heartbeat failed: the engine is unreachable; the next heartbeat tries again');
    }
    return 'go-on';
  };

  let settle!: (outcome: RegistrationOutcome) => void;
  const registration = new Promise<RegistrationOutcome>((resolve) => (settle = resolve));
  const loop = (async () => {
    settle(await registerWithEngine(wire, engine, body, options.announceRetry, log, stopping.signal));
    if (options.heartbeatMs <= 0) return;
    while (!stopping.signal.aborted) {
      await sleepUnlessAborted(options.heartbeatMs, stopping.signal);
      if (stopping.signal.aborted || (await beat()) === 'no-heartbeats') return;
    }
  })().catch((err: unknown) => log.error({ engine, err: (err as Error).message }, 'the engine link failed unexpectedly'));

  return {
    engine,
    registration,
    async stop() {
      stopping.abort();
      await loop;
    },
    async sleep() {
      const started = performance.now();
      const outcome = await tellSleeping(wire, base, body.slug);
      wire.events.called('engine-status', id, performance.now() - started, outcome.told ? undefined : outcome.why);
      if (outcome.told) log.info({ engine }, 'told the engine this service is sleeping');
      else if (outcome.unknown) log.info({ engine, status: outcome.status }, 'the engine does not know this service: no sleeping status to send');
      else if (outcome.status !== undefined) log.warn({ engine, status: outcome.status }, 'the engine refused the sleeping status');
      else log.warn({ engine, reason: outcome.why }, 'could not tell the engine this service is sleeping');
    },
  };
}

type SleepingOutcome = { told: true } | { told: false; unknown: boolean; status?: number; why: string };

/** GET /services/slug/{slug} for the id, then PATCH /services/{id} {"status": "sleeping"}; bounded in time, never throws. */
async function tellSleeping({ call: httpCall }: EngineWire, base: string, slug: string): Promise<SleepingOutcome> {
  const deadline = AbortSignal.timeout(SLEEPING_NOTICE_TIMEOUT_MS);
  const call = (method: 'GET' | 'PATCH', path: string, json?: unknown) =>
    httpCall(`${base}${path}`, { method, ...(json !== undefined ? { json } : {}), signal: deadline, timeoutMs: SLEEPING_NOTICE_TIMEOUT_MS, maxResponseBytes: ENGINE_REPLY_CAP_BYTES });
  try {
    const found = await call('GET', `/services/slug/${encodeURIComponent(slug)}`);
    const id = (found.json() as { id?: unknown } | undefined)?.id;
    if (found.status !== 200 || (typeof id !== 'string' && typeof id !== 'number')) {
      return { told: false, unknown: true, status: found.status, why: `GET /services/slug/${slug} answered ${found.status}` };
    }
    const res = await call('PATCH', `/services/${encodeURIComponent(String(id))}`, { status: 'sleeping' });
    return res.status === 200 ? { told: true } : { told: false, unknown: false, status: res.status, why: `PATCH /services/${String(id)} answered ${res.status}` };
  } catch (err) {
    return { told: false, unknown: false, why: httpFailureReason(err) };
  }
}
