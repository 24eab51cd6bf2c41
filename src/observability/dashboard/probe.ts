// What the observer stream cannot tell, asked of the transports: how many messages wait
// in a queue, how many consumers read it, how far a listener group is behind, how many dead
// letters it holds. A transport (or anything that knows) answers for the channels it
// recognises and leaves the rest out; the dashboard asks every few seconds.

export interface ChannelFigures {
  /** Messages waiting (not in flight). */
  readonly depth?: number;
  /** Consumers reading it. */
  readonly consumers?: number;
  /** Entries a listener group has not yet read (Redis streams). */
  readonly lag?: number;
  /** Messages in its dead-letter queue. */
  readonly deadLetters?: number;
}

export interface ProbeChannel {
  readonly name: string;
  readonly kind?: string;
}

export interface Probe {
  /** For messages: "memory", "amqp", "redis". */
  readonly name: string;
  /** Figures of the channels it knows among `channels`, by channel name. */
  probe(channels: readonly ProbeChannel[]): Promise<ReadonlyMap<string, ChannelFigures>>;
}
