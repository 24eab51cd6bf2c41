// What a running worker reports, for whoever listens: the logger, the metrics, the dev
// flow printer, tests. Listeners never change what the worker does.

import type { UploadedObject } from './request-files.js';
import type { Case } from './worker.js';

export interface PublishedResult {
  readonly id: bigint;
  readonly case: Case;
  readonly queues: readonly string[];
}

export type DeadLetterKind = 'bad_id' | 'no_route' | 'max_attempts';

export type WorkerEvent =
  | { readonly type: 'started'; readonly service: string; readonly queue: string; readonly outbound: readonly string[] }
  | { readonly type: 'consumed'; readonly service: string; readonly queue: string; readonly id: bigint; readonly attempt: number }
  | {
      readonly type: 'succeeded'; readonly service: string; readonly queue: string; readonly id: bigint;
      readonly results: readonly PublishedResult[]; readonly uploads: readonly UploadedObject[];
      readonly dropped: readonly PublishedResult[]; readonly durationMs: number;
    }
  | {
      readonly type: 'failed'; readonly service: string; readonly queue: string; readonly id: bigint;
      readonly attempt: number; readonly error: Error; readonly retryInMs: number | undefined; readonly durationMs: number;
    }
  | {
      readonly type: 'dead-lettered'; readonly service: string; readonly queue: string; readonly id: bigint | undefined;
      readonly kind: DeadLetterKind; readonly reason: string;
    }
  | { readonly type: 'stopped'; readonly service: string; readonly queue: string };

export type WorkerListener = (event: WorkerEvent) => void;
