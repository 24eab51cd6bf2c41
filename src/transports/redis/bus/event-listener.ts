// One listener group member on Redis streams, as Lightbus consumes events (SPECS.md §5.3),
// on THE stream consumer (../stream-consumer.ts: the same reading, pending-first start,
// reclaim rule and stop as the generic transport's queues). What is Lightbus's here:
// - streams and the group are made as Lightbus makes them: a no-op entry {"": ""} when
//   the stream does not exist, then XGROUP CREATE ... $ (new events only);
// - entries are by-field events (protocols/lightbus/by-field.ts); a no-op entry, or an
//   event of the stream that this listener does not want, is acked and skipped;
// - an entry that cannot be read, or that the bus sets aside, goes to
//   "{stream}:dead_letter" (trimmed like the streams) with the reason, and is acked there
//   and then (one script, only while this member still holds it);
// - ack is XACK only (other groups read the same stream); an event released, or left
//   unsettled by its handler, stays pending and is reclaimed after reclaimIdleMs.

import { DEAD_LETTER_HEADERS, type Subscription } from '../../transport.js';
import type { EventDelivery, ListenSpec } from '../../bus/bus-transport.js';
import { fieldsToEvent, isNoop } from '../../../protocols/lightbus/by-field.js';
import { deadLetterStreamOf, streamOf, type StreamUse } from '../../../protocols/lightbus/names.js';
import { graceAfter, signal, unlessStopped } from '../connection.js';
import { StreamConsumer, reclaimIntervalFor, type ConsumerHost, type Source, type Taken } from '../stream-consumer.js';

export interface ListenOptions {
  readonly host: ConsumerHost;
  readonly streamUse: StreamUse;
  /** Dead-letter streams are trimmed to about this many entries. */
  readonly maxStreamLength: number;
  /** How long one blocking read waits before it is issued again (stop ends it at once). */
  readonly blockMs: number;
}

export async function listenOnStreams(spec: ListenSpec, handler: (d: EventDelivery) => Promise<void>, options: ListenOptions): Promise<Subscription> {
  const { host } = options;
  const wanted = new Set(spec.events.map((e) => `${e.api}\u0000${e.event}`));
  const streams = [...new Set(spec.events.map((e) => streamOf(e.api, e.event, options.streamUse)))];
  const sources: Source[] = streams.map((stream) => ({ stream, deleteOnAck: false, startAt: '$' }));
  for (const source of sources) await host.ensureGroup(source.stream, spec.group, source.startAt);

  // Once stopping, settlements still waiting for an unreachable Redis get a grace, then are
  // given up (the entry stays pending and is reclaimed: at least once holds), so stop ends.
  // Bounded by a Signal: a wait on a promise would keep ~460 bytes per event until stop.
  const stopped = signal();
  const giveUp = graceAfter(stopped.promise);
  const bounded = (work: Promise<unknown>) => unlessStopped(work, giveUp).then(() => undefined);
  // The ack, bounded the same way, on the batcher's callback: one promise per ack instead of three.
  const ack = (taken: Taken<string>) => new Promise<void>((resolve, reject) => {
    const unwatch = giveUp.watch(resolve);
    consumer.ackThen(taken, (error) => {
      unwatch();
      if (error) reject(error);
      else resolve();
    });
  });

  const setAside = async (taken: Taken<string>, reason: string) =>
    bounded(consumer.move(taken, deadLetterStreamOf(taken.source.stream), [
      ...(await asStored(taken)),
      DEAD_LETTER_HEADERS.reason, reason,
      DEAD_LETTER_HEADERS.sourceQueue, `${taken.source.stream}/${spec.group}`,
    ], options.maxStreamLength));

  // Fields are read as text (Lightbus writes UTF-8 JSON); one that was not UTF-8 reads with
  // U+FFFD in it, so its dead letter is made of the bytes as stored, read again.
  const asStored = async (taken: Taken<string>): Promise<ReadonlyArray<string | Buffer>> => {
    if (!taken.fields.some((f) => f.includes('\uFFFD'))) return taken.fields;
    const [entry] = (await host.commands.xrangeBuffer(taken.source.stream, taken.id, taken.id)) as Array<[Buffer, Buffer[]]>;
    return entry?.[1] ?? taken.fields;
  };

  const run = async (taken: Taken<string>): Promise<void> => {
    const fields = taken.fields;
    if (isNoop(fields)) return ack(taken);
    let event;
    try {
      event = fieldsToEvent(fields);
    } catch (error) {
      const reason = (error as Error).message;
      await setAside(taken, reason);
      spec.onMalformed?.({ nativeId: taken.id, source: taken.source.stream, reason });
      return;
    }
    if (!wanted.has(`${event.api}\u0000${event.event}`)) return ack(taken);
    let settled = false;
    const once = (fn: () => Promise<void>) => async () => {
      if (settled) return;
      settled = true;
      await fn();
    };
    try {
      await handler({
        event,
        nativeId: taken.id,
        attempt: taken.missed + 1,
        ack: once(() => ack(taken)),
        release: once(async () => consumer.release(taken)),
        setAside: (reason) => once(() => setAside(taken, reason))(),
      });
    } finally {
      // Left unsettled: its slot is free again, the entry stays pending for a reclaim.
      if (!settled) consumer.release(taken);
    }
  };

  const consumer = new StreamConsumer<string>(host, { label: spec.group, group: spec.group, sources, name: spec.consumer, text: true }, run, spec.prefetch, {
    blockMs: options.blockMs,
    reclaimIdleMs: spec.reclaimIdleMs,
    reclaimIntervalMs: reclaimIntervalFor(spec.reclaimIdleMs),
  });
  await consumer.start();
  return {
    stop: (stopOptions) => {
      stopped.resolve();
      return consumer.stop(stopOptions);
    },
  };
}
