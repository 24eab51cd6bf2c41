// A look at a transport's queues from outside the services (`switchyard queues`, the
// dashboard's probes): what waits, who reads, how far a listener group is behind, and how
// many dead letters each holds.

export interface QueueInfo {
  readonly queue: string;
  /** Messages waiting (not in flight). */
  readonly depth: number;
  readonly consumers?: number;
  /** Entries a listener group has not read yet (Redis streams). */
  readonly lag?: number;
  /** Messages in its dead-letter queue. */
  readonly deadLetters: number;
}

export interface QueueLook {
  /** The queues named, or every queue the transport can list when none are named. */
  listQueues(names?: readonly string[]): Promise<QueueInfo[]>;
}
