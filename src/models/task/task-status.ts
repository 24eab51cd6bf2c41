// The life of one task: pending → fetching → processing → saving → finished, or error from
// any step before finished. Moves are checked, so a bug that would report a task finished
// before its outputs are saved (or revive a failed task) fails loudly instead.

import { errors } from '../../errors.js';
import type { TaskStatus } from './wire.js';

const NEXT: Readonly<Partial<Record<TaskStatus, readonly TaskStatus[]>>> = {
  pending: ['fetching', 'error'],
  fetching: ['processing', 'error'],
  processing: ['saving', 'error'],
  saving: ['finished', 'error'],
};

export function canMove(from: TaskStatus, to: TaskStatus): boolean {
  return NEXT[from]?.includes(to) ?? false;
}

/** A task's status with its error message; `move` throws on a move the machine does not allow. */
export class TaskState {
  #status: TaskStatus = 'pending';
  #errorMessage: string | null = null;

  get status(): TaskStatus {
    return this.#status;
  }

  get errorMessage(): string | null {
    return this.#errorMessage;
  }

  get done(): boolean {
    return this.#status === 'finished' || this.#status === 'error';
  }

  move(to: Exclude<TaskStatus, 'error'>): void {
    if (!canMove(this.#status, to)) throw new errors.SY_ERR_TASK_STATE(this.#status, to);
    this.#status = to;
  }

  fail(message: string): void {
    if (!canMove(this.#status, 'error')) throw new errors.SY_ERR_TASK_STATE(this.#status, 'error');
    this.#status = 'error';
    this.#errorMessage = message;
  }
}
