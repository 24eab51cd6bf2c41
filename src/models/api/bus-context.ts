// What the parts of a bus (rpc-caller, rpc-executor, event-firer, event-listeners) share:
// the bus's logger, its observer emitter and payload taps, what it knows about APIs, and
// its per-API settings and transports. The bus (bus.ts) makes one and hands it to each.

import type { Logger } from '../../observability/logger.js';
import type { Emitter } from '../../observability/observer.js';
import type { WarnLimiter } from '../../observability/warn-limiter.js';
import type { BusTransport } from '../../transports/bus/bus-transport.js';
import type { RecentEvents } from './recent-events.js';
import type { SchemaBook } from './schema-book.js';
import type { ApiSettings } from './settings.js';
import type { Taps } from './taps.js';

export interface BusContext {
  readonly logger: Logger;
  /** The observer stream: check `emitter.active` before building an event. */
  readonly emitter: Emitter;
  readonly taps: Taps;
  readonly schemas: SchemaBook;
  readonly recent: RecentEvents;
  /** Warnings a peer's input can cause: rate-limited per kind. */
  readonly peerWarnings: WarnLimiter;
  settingsOf(api: string): ApiSettings;
  transportOf(api: string): BusTransport;
  /** Throws SY_ERR_BUS_STATE unless the bus may send now; `verb api.member` names what was refused. */
  requireRunning(verb: string, api: string, member: string, suffix?: string): void;
}
