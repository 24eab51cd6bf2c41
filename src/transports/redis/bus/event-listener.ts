// One listener group member on Redis streams, as Lightbus consumes events (SPECS.md §5.3):
// make each stream and the group exist (no-op entry, XGROUP CREATE ... $), read this
// member's own pending entries first, then new ones with XREADGROUP ... BLOCK; ack each
// entry after its handler finished; every reclaim interval claim entries another member
// has held longer than the idle time (XPENDING + XCLAIM). Entries that cannot be read, or
// that the bus sets aside, go to "{stream}:dead_letter" with the reason, then are acked.

import type { Redis } from 'ioredis';
import { DEAD_LETTER_HEADERS, type Subscription } from '../../transport.js';
import type { Logger } from '../../../observability/logger.js';
import type { EventDelivery, ListenSpec } from '../../bus/bus-transport.js';
import { fieldsToEvent, isNoop } from './by-field.js';
import { graceAfter, isClosedError, openRedis, signal, sleep, unlessStopped } from './connections.js';
import { deadLetterStreamOf, streamOf, type StreamUse } from './names.js';

export interface ListenOptions {
  readonly url: string;
  readonly commands: Redis;
  readonly logger: Logger;
  readonly streamUse: StreamUse;
  readonly maxStreamLength: number;
}

type Entry = [id: string, fields: string[]];
type ReadReply = [stream: string, entries: Entry[]][] | null;

export async function listenOnStreams(spec: ListenSpec, handler: (d: EventDelivery) => Promise<void>, options: ListenOptions): Promise<Subscription> {
  const { commands, logger } = options;
  const wanted = new Set(spec.events.map((e) => `${e.api}\u0000${e.event}`));
  const streams = [...new Set(spec.events.map((e) => streamOf(e.api, e.event, options.streamUse)))];
  for (const stream of streams) {
    if ((await commands.exists(stream)) === 0) await commands.xadd(stream, '*', '', '');
    try {
      await commands.xgroup('CREATE', stream, spec.group, '$');
    } catch (error) {
      if (!/BUSYGROUP/.test((error as Error).message)) throw error;
    }
  }

  const reader = openRedis(options.url, `listener-${spec.group}`, logger);
  const inFlight = new Set<Promise<void>>();
  const held = new Set<string>();
  let stopping = false;
  let slotFreed: (() => void) | undefined;
  // Once stopping: blocking reads end at once; acks still waiting for Redis get a grace,
  // then are given up (the entry stays pending and is reclaimed: at least once holds).
  const stopped = signal();
  const giveUp = graceAfter(stopped.promise);

  const ack = (stream: string, id: string) => unlessStopped(commands.xack(stream, spec.group, id), giveUp).then(() => undefined);
  const setAside = async (stream: string, id: string, fields: string[], reason: string) => {
    await unlessStopped(
      commands
        .multi()
        .xadd(deadLetterStreamOf(stream), 'MAXLEN', '~', String(options.maxStreamLength), '*', ...fields, DEAD_LETTER_HEADERS.reason, reason, DEAD_LETTER_HEADERS.sourceQueue, `${stream}/${spec.group}`)
        .xack(stream, spec.group, id)
        .exec(),
      giveUp,
    );
  };

  const dispatch = (stream: string, [id, fields]: Entry, attempt: number) => {
    if (held.has(`${stream}/${id}`)) return;
    const work = (async () => {
      // A pending entry whose content was trimmed away arrives without fields: nothing to do.
      if (!fields || isNoop(fields)) return ack(stream, id);
      let event;
      try {
        event = fieldsToEvent(fields);
      } catch (error) {
        const reason = (error as Error).message;
        await setAside(stream, id, fields, reason);
        spec.onMalformed?.({ nativeId: id, source: stream, reason });
        return;
      }
      if (!wanted.has(`${event.api}\u0000${event.event}`)) return ack(stream, id);
      let settled = false;
      const once = (fn: () => Promise<void>) => async () => {
        if (settled) return;
        settled = true;
        await fn();
      };
      await handler({
        event,
        nativeId: id,
        attempt,
        ack: once(() => ack(stream, id)),
        release: once(async () => undefined),
        setAside: (reason) => once(() => setAside(stream, id, fields, reason))(),
      });
    })();
    const key = `${stream}/${id}`;
    held.add(key);
    const tracked = work
      .catch((err) => logger.error({ err, stream, id }, 'handling an event failed; it stays pending and is reclaimed later'))
      .finally(() => {
        held.delete(key);
        inFlight.delete(tracked);
        slotFreed?.();
      });
    inFlight.add(tracked);
  };

  const waitForSlot = async () => {
    while (inFlight.size >= spec.prefetch && !stopping) await new Promise<void>((r) => (slotFreed = r));
  };

  /** How many times each entry was delivered, from the group's pending list. */
  const deliveries = async (stream: string, ids: string[]): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    for (const id of ids) {
      const rows = (await unlessStopped(commands.xpending(stream, spec.group, id, id, 1), stopped.promise)) as [string, string, number, number][] | undefined;
      if (rows?.[0]) out.set(id, Number(rows[0][3]));
    }
    return out;
  };

  const readLoop = (async () => {
    // This member's own pending entries first (left by an earlier run of the same process name).
    for (const stream of streams) {
      const reply = (await unlessStopped(commands.xreadgroup('GROUP', spec.group, spec.consumer, 'COUNT', 1000, 'STREAMS', stream, '0'), stopped.promise)) as ReadReply | undefined;
      if (stopping) return;
      const entries = reply?.[0]?.[1] ?? [];
      const counts = await deliveries(stream, entries.map(([id]) => id));
      for (const entry of entries) {
        await waitForSlot();
        dispatch(stream, entry, counts.get(entry[0]) ?? 2);
      }
    }
    while (!stopping) {
      await waitForSlot();
      if (stopping) break;
      let reply: ReadReply | undefined;
      try {
        reply = (await unlessStopped(
          reader.xreadgroup(
            'GROUP', spec.group, spec.consumer,
            'COUNT', Math.max(1, spec.prefetch - inFlight.size),
            'BLOCK', 0,
            'STREAMS', ...streams, ...streams.map(() => '>'),
          ),
          stopped.promise,
        )) as ReadReply | undefined;
        if (stopping) break;
      } catch (error) {
        if (stopping || isClosedError(error)) return;
        if (/NOGROUP/.test((error as Error).message)) {
          // The stream or group vanished (e.g. Redis restarted without persistence): make them again.
          for (const stream of streams) await unlessStopped(commands.xgroup('CREATE', stream, spec.group, '$', 'MKSTREAM').catch(() => undefined), stopped.promise);
        } else logger.warn({ group: spec.group, err: (error as Error).message }, 'reading events failed; retrying');
        await sleep(200);
        continue;
      }
      for (const [stream, entries] of reply ?? []) for (const entry of entries) dispatch(stream, entry, 1);
    }
  })();

  // Reclaim entries held too long by any member (a crashed one, or a handler that failed).
  const reclaimEveryMs = Math.max(100, Math.min(spec.reclaimIdleMs, 60_000));
  const reclaimTimer = setInterval(() => {
    void (async () => {
      for (const stream of streams) {
        if (stopping || inFlight.size >= spec.prefetch) return;
        const rows = (await commands.xpending(stream, spec.group, 'IDLE', spec.reclaimIdleMs, '-', '+', spec.prefetch - inFlight.size)) as [string, string, number, number][];
        const ids = rows.map((r) => r[0]).filter((id) => !held.has(`${stream}/${id}`));
        if (ids.length === 0) continue;
        const counts = new Map(rows.map((r) => [r[0], Number(r[3])]));
        const claimed = (await commands.xclaim(stream, spec.group, spec.consumer, spec.reclaimIdleMs, ...ids)) as Entry[];
        for (const entry of claimed) {
          if (!entry || !entry[1]) continue;
          logger.info({ group: spec.group, stream, id: entry[0] }, 'reclaimed an event held too long by a member of the group');
          dispatch(stream, entry, (counts.get(entry[0]) ?? 1) + 1);
        }
      }
    })().catch((err) => {
      if (!stopping) logger.warn({ group: spec.group, err: (err as Error).message }, 'reclaiming events failed; retrying at the next interval');
    });
  }, reclaimEveryMs);

  return {
    stop: async () => {
      stopping = true;
      stopped.resolve();
      clearInterval(reclaimTimer);
      slotFreed?.();
      reader.disconnect();
      await readLoop.catch(() => undefined);
      // Handlers running finish and ack; anything unacked stays pending for a reclaim.
      await Promise.all(inFlight);
    },
  };
}
