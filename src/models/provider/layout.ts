// Where a provider's sockets are and what each task runs with, derived from its resolved
// settings (settings.ts) and the tasks registered in code: no parsing or merging here.
//   {socket_dir}/{task}/{priority}-{service_name}.sock     a task's socket
//   {socket_dir}/streams/{task}/{service_name}/            its single-use stream sockets
//   {socket_dir}/response/{service_name}[.{copy}].sock     the response hook of requests it sends

import { join, resolve } from 'node:path';
import type { ProviderSettings, TaskSettings } from './settings.js';

/** Folder names under socket_dir the provider itself uses; no task may take them. */
export const RESERVED_DIRS = ['response', 'streams'] as const;

export class ProviderLayout {
  readonly socketDir: string;
  readonly socketMode: number;
  /** The tracker's wait for responses: request_timeout, or 1 minute when 0 (the original's rule). */
  readonly requestTimeoutMs: number;
  /** The stream sockets' wait for a reader, ms; 0 = none. */
  readonly streamIdleMs: number;
  /** Options a task was registered with in code: the settings' tasks.{name} win over them. */
  readonly #codeDefaults = new Map<string, TaskSettings>();

  constructor(readonly settings: ProviderSettings, readonly serviceName: string) {
    this.socketDir = resolve(settings.socket_dir);
    this.socketMode = parseInt(settings.socket_mode, 8);
    this.requestTimeoutMs = settings.request_timeout > 0 ? settings.request_timeout * 1000 : 60_000;
    this.streamIdleMs = settings.stream_idle_timeout * 1000;
  }

  /** Records the priority/timeout a task was registered with in code (weaker than the settings). */
  setCodeDefaults(task: string, options: TaskSettings): void {
    this.#codeDefaults.set(task, options);
  }

  taskPriority(task: string): number {
    return this.settings.tasks[task]?.priority ?? this.#codeDefaults.get(task)?.priority ?? this.settings.default_priority;
  }

  /** The handler's time limit in ms; 0 = none. */
  taskTimeoutMs(task: string): number {
    return (this.settings.tasks[task]?.timeout ?? this.#codeDefaults.get(task)?.timeout ?? this.settings.default_timeout) * 1000;
  }

  /** {socket_dir}/{task}/{priority}-{service_name}.sock: priority not zero-padded, as in the original. */
  taskSocketPath(task: string): string {
    return join(this.socketDir, task, `${this.taskPriority(task)}-${this.serviceName}.sock`);
  }

  /** {socket_dir}/streams/{task}/{service_name}: where single-use stream sockets go. */
  streamDir(task: string): string {
    return join(this.socketDir, 'streams', task, this.serviceName);
  }

  /** {socket_dir}/response/{service_name}.sock, or .{copy}.sock for copy N of --instances (a response must reach the copy that asked). */
  responseSocketPath(copy?: number): string {
    return join(this.socketDir, 'response', copy === undefined ? `${this.serviceName}.sock` : `${this.serviceName}.${copy}.sock`);
  }
}
