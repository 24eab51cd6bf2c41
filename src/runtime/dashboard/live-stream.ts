// The dashboard's live stream (Server-Sent Events): one snapshot made per tick and written
// to every client. Bounded: at most maxClients at once (more are refused with 503), and a
// client that does not read (its socket buffers more than maxBufferedBytes) is dropped
// rather than buffered without end; a page reconnects by itself.

import type { ServerResponse } from 'node:http';

export interface LiveStreamOptions {
  readonly maxClients: number;
  readonly maxBufferedBytes: number;
}

export class LiveStream {
  readonly #clients = new Set<ServerResponse>();
  /** Clients dropped for being slow, since start (reported on the page and in tests). */
  dropped = 0;

  constructor(private readonly options: LiveStreamOptions) {}

  get size(): number {
    return this.#clients.size;
  }

  get full(): boolean {
    return this.#clients.size >= this.options.maxClients;
  }

  /** Takes over a raw response as an event stream. */
  add(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    this.#clients.add(res);
    const forget = () => this.#clients.delete(res);
    res.once('close', forget);
    res.once('error', forget);
  }

  /** Writes one event to every client; drops the ones that fell behind. */
  send(event: string, data: string): void {
    const frame = `event: ${event}\ndata: ${data}\n\n`;
    for (const res of this.#clients) {
      if (res.writableLength > this.options.maxBufferedBytes) {
        this.dropped++;
        this.#clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(frame);
    }
  }

  closeAll(): void {
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }
}
