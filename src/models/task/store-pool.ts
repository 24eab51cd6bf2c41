// One object store per distinct S3 settings that tasks arrive with (engines usually send
// the same ones every time), shared by the tasks using it and closed when idle past a
// small number kept open. Keyed by a hash, so the map holds no credentials as keys.

import { createHash } from 'node:crypto';
import type { ObjectStore } from '../../storage/object-store.js';

export interface TaskS3Settings {
  readonly host: string;
  readonly region: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export type OpenStore = (settings: TaskS3Settings) => ObjectStore;

interface Entry {
  readonly store: ObjectStore;
  users: number;
  lastUsed: number;
}

export class StorePool {
  readonly #entries = new Map<string, Entry>();
  #tick = 0;

  constructor(private readonly open: OpenStore, private readonly keepIdle = 8) {}

  acquire(settings: TaskS3Settings): { store: ObjectStore; release(): void } {
    const key = createHash('sha256').update(JSON.stringify([settings.host, settings.region, settings.accessKeyId, settings.secretAccessKey])).digest('hex');
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { store: this.open(settings), users: 0, lastUsed: 0 };
      this.#entries.set(key, entry);
    }
    entry.users++;
    const e = entry;
    let released = false;
    return {
      store: e.store,
      release: () => {
        if (released) return;
        released = true;
        e.users--;
        e.lastUsed = ++this.#tick;
        this.#trim();
      },
    };
  }

  get size(): number {
    return this.#entries.size;
  }

  #trim(): void {
    if (this.#entries.size <= this.keepIdle) return;
    const idle = [...this.#entries].filter(([, e]) => e.users === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [key, e] of idle) {
      if (this.#entries.size <= this.keepIdle) break;
      this.#entries.delete(key);
      void e.store.close?.().catch(() => undefined);
    }
  }

  async closeAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(entries.map((e) => e.store.close?.().catch(() => undefined)));
  }
}
