// Announcing the service to its engines (common-code ServiceService.announce_service):
// POST {engine}/services with the registration body; 200 is success; 409 means the slug
// is known, so GET {engine}/services/slug/{slug} gives its id and PATCH
// {engine}/services/{id} updates it (200 is success). Anything else is a failure, retried
// ENGINE_ANNOUNCE_RETRIES times per engine, ENGINE_ANNOUNCE_RETRY_DELAY apart. (The
// reference shares one budget across all engines; here every engine gets its own, and
// engines are announced to at once, so one engine that is down delays no other.) Each
// announce is reported as one call to "engine-register".

import { errors, redactUrl } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { HttpFacet } from '../../runtime/registry.js';
import { backoffMs, shouldRetry, sleepUnlessAborted, type RetryPolicy } from '../../runtime/retry.js';
import { httpFailureReason } from '../../transports/http/http-client.js';
import type { TaskEvents } from './task-events.js';
import type { TaskServiceDefinition } from './task-service.js';
import type { ServiceRegistration } from './wire.js';

/** What talking to an engine needs: outbound HTTP (from the transport) and the event reporter. */
export interface EngineWire {
  readonly call: HttpFacet['call'];
  readonly events: TaskEvents;
}

export type AnnounceResult = { ok: true; how: 'created' | 'updated' } | { ok: false; why: string };

export interface RegistrationOutcome {
  readonly engine: string;
  readonly registered: boolean;
  readonly attempts: number;
  readonly how?: 'created' | 'updated';
  readonly error?: string;
}

/** The body of POST /services (and of each heartbeat), fields in the reference's order. */
export function registrationBody(definition: TaskServiceDefinition, serviceUrl: string): ServiceRegistration {
  const field = (f: (typeof definition.dataIn)[number]) => ({ name: f.name, type: [...f.type], ...('format_hint' in f ? { format_hint: f.format_hint } : {}) });
  return {
    name: definition.name,
    slug: definition.slug,
    url: serviceUrl,
    summary: definition.summary,
    description: definition.description,
    status: 'available',
    data_in_fields: definition.dataIn.map(field),
    data_out_fields: definition.dataOut.map(field),
    tags: definition.tags.map((t) => ({ name: t.name, acronym: t.acronym })),
    docs_url: definition.docsUrl,
    has_ai: definition.hasAi,
  };
}

/** The engine answers POST /services only after it called GET {url}/status on us: allow for that. */
const ANNOUNCE_TIMEOUT_MS = 30_000;
/** Engines answer with small JSON documents: read no more of a reply than this. */
export const ENGINE_REPLY_CAP_BYTES = 256 * 1024;

function brief(status: number, text: string): string {
  return `${status}${text ? ` ${text.slice(0, 300)}` : ''}`;
}

/** One announce, reported as one "engine-register" call. */
export async function announce(wire: EngineWire, engine: string, body: ServiceRegistration, signal?: AbortSignal): Promise<AnnounceResult> {
  const started = performance.now();
  const result = await announceOnce(wire, engine, body, signal);
  wire.events.called('engine-register', redactUrl(engine), performance.now() - started, result.ok ? undefined : result.why);
  return result;
}

async function announceOnce({ call: httpCall }: EngineWire, engine: string, body: ServiceRegistration, signal?: AbortSignal): Promise<AnnounceResult> {
  const base = engine.replace(/\/+$/, '');
  const call = (method: 'GET' | 'POST' | 'PATCH', path: string, json?: unknown) =>
    httpCall(`${base}${path}`, { method, ...(json !== undefined ? { json } : {}), timeoutMs: ANNOUNCE_TIMEOUT_MS, maxResponseBytes: ENGINE_REPLY_CAP_BYTES, ...(signal ? { signal } : {}) });
  try {
    const res = await call('POST', '/services', body);
    if (res.status === 200) return { ok: true, how: 'created' };
    if (res.status !== 409) return { ok: false, why: `POST /services answered ${brief(res.status, res.text)}` };
    const found = await call('GET', `/services/slug/${encodeURIComponent(body.slug)}`);
    const id = (found.json() as { id?: unknown } | undefined)?.id;
    if (found.status !== 200 || (typeof id !== 'string' && typeof id !== 'number')) {
      return { ok: false, why: `the slug "${body.slug}" exists (409) but GET /services/slug/${body.slug} answered ${brief(found.status, found.text)}` };
    }
    const updated = await call('PATCH', `/services/${encodeURIComponent(String(id))}`, body);
    if (updated.status === 200) return { ok: true, how: 'updated' };
    return { ok: false, why: `PATCH /services/${String(id)} answered ${brief(updated.status, updated.text)}` };
  } catch (err) {
    return { ok: false, why: `the engine is unreachable (${httpFailureReason(err)})` };
  }
}

/** Announces to one engine until it succeeds, the attempts run out, or `signal` aborts. */
export async function registerWithEngine(wire: EngineWire, engine: string, body: ServiceRegistration, retry: RetryPolicy, log: Logger, signal: AbortSignal): Promise<RegistrationOutcome> {
  for (let attempt = 1; ; attempt++) {
    const result = await announce(wire, engine, body, signal);
    if (result.ok) {
      log.info({ engine, attempt, how: result.how }, result.how === 'created' ? 'registered with the engine' : 'service already known to the engine: updated it');
      return { engine, registered: true, attempts: attempt, how: result.how };
    }
    if (signal.aborted || !shouldRetry(retry, attempt)) {
      const error = new errors.SY_ERR_ENGINE_REGISTRATION(engine, `${result.why}; gave up after ${attempt} attempt(s)${signal.aborted ? ' (stopping)' : ''}. The service keeps serving; fix the engine URL (ENGINE_URLS) or the engine and restart, or raise ENGINE_ANNOUNCE_RETRIES`);
      log.error({ engine, attempts: attempt }, error.message);
      return { engine, registered: false, attempts: attempt, error: error.message };
    }
    const delay = backoffMs(retry, attempt);
    log.warn({ engine, attempt, of: retry.maxAttempts, retryInMs: delay, reason: result.why }, 'registration with the engine failed; retrying');
    await sleepUnlessAborted(delay, signal);
  }
}
