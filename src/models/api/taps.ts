// Payload taps: the one internal hook through which bus features see the values a bus
// sends and receives. Two Lightbus-compatible features need them — the metrics plugin
// (its events on internal.metrics carry the kwargs and results, as Lightbus's do) and the
// testing utilities (assertCalled matches the parameters). Everything that WATCHES a
// running system (metrics, logs, the dashboard, traces) uses the observer stream instead,
// which by rule carries no payloads; this hook is not exported from the package.

/** What a tap is told; values are the validated parameters as the caller or handler sees them. */
export interface PayloadTap {
  /** A call was sent. */
  called?(api: string, procedure: string, params: unknown, id: string): void;
  /** The result (or remote error) of a call arrived. */
  resultReceived?(api: string, procedure: string, id: string): void;
  /** A call arrived here and its procedure starts. */
  executing?(api: string, procedure: string, params: unknown, id: string): void;
  /** A procedure returned and its result is being sent back. */
  responding?(api: string, procedure: string, id: string, result: unknown): void;
  fired?(api: string, event: string, params: unknown, id: string): void;
  /** An event reached a listener and its handler starts. */
  eventReceived?(api: string, event: string, params: unknown, listener: string, id: string): void;
  /** A handler finished and the event was acknowledged. */
  eventHandled?(api: string, event: string, params: unknown, listener: string, id: string): void;
}

/** The taps of one bus; `list` is empty (one length check per step) unless a feature added one. */
export class Taps {
  readonly list: PayloadTap[] = [];

  add(tap: PayloadTap): () => void {
    this.list.push(tap);
    return () => {
      const at = this.list.indexOf(tap);
      if (at >= 0) this.list.splice(at, 1);
    };
  }
}

/** The key of a bus's taps: `bus[TAPS].add(tap)`. A symbol, so the hook is no name on the bus's public face. */
export const TAPS = Symbol('switchyard.api.taps');
