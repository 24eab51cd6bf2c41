// The last events a bus fired, handled or set aside, for `switchyard inspect`: a ring of
// fixed size, stamped with a number; formatting waits until someone asks.

export interface RecentEvent {
  readonly direction: 'fired' | 'handled' | 'set-aside';
  readonly api: string;
  readonly event: string;
  readonly id: string;
  readonly at: string;
  readonly listener?: string;
}

const RECENT_LIMIT = 50;

export class RecentEvents {
  private readonly ring: (Omit<RecentEvent, 'at'> & { atMs: number })[] = [];
  private next = 0;

  remember(event: Omit<RecentEvent, 'at'>): void {
    this.ring[this.next] = { ...event, atMs: Date.now() };
    this.next = (this.next + 1) % RECENT_LIMIT;
  }

  /** Oldest first. */
  list(): RecentEvent[] {
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)].map(({ atMs, ...e }) => ({ ...e, at: new Date(atMs).toISOString() }));
  }
}
