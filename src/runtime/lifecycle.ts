// Stopping cleanly: the first SIGINT/SIGTERM stops taking work and lets what is in flight
// finish (its acks included); a second one exits at once and acks nothing, leaving every
// unacked message to the broker's redelivery.

export interface Stoppable {
  stop(): Promise<void>;
}

export interface SignalOptions {
  /** Called once, on the first signal, before stopping. */
  onFirstSignal?(signal: NodeJS.Signals): void;
  /** Called on the second signal, just before the process exits. */
  onSecondSignal?(signal: NodeJS.Signals): void;
  /** Called when the clean stop failed, before exiting 1. Default: the error on stderr. */
  onStopError?(err: unknown): void;
  /** Exit code after a clean stop. Default 0. */
  exitCode?: number;
  /** Stubbable for tests. */
  exit?(code: number): void;
  /**
   * The signals that stop. Default SIGINT and SIGTERM. An instance under a supervisor stops on
   * SIGTERM only (a terminal's Ctrl-C reaches the whole process group; the supervisor turns
   * it into one SIGTERM per instance, and a second one would abandon in-flight work).
   */
  signals?: readonly NodeJS.Signals[];
}

/**
 * Installs SIGINT/SIGTERM handlers that stop `target` and then exit; returns a function
 * that removes them again. Resolves `stopped` once the clean stop finished.
 */
export function stopOnSignals(target: Stoppable, options: SignalOptions = {}): { remove(): void; stopped: Promise<void> } {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let signalled = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      options.onSecondSignal?.(signal);
      exit(signal === 'SIGINT' ? 130 : 143);
      return;
    }
    signalled = true;
    options.onFirstSignal?.(signal);
    target.stop().then(
      () => {
        resolveStopped();
        exit(options.exitCode ?? 0);
      },
      (err: unknown) => {
        (options.onStopError ?? ((e) => process.stderr.write(`switchyard: stopping failed: ${(e as Error)?.message ?? String(e)}\n`)))(err);
        exit(1);
      },
    );
  };
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  // A signal not listened for but in the default set is ignored rather than left to kill
  // the process with its default action.
  const ignored = (['SIGINT', 'SIGTERM'] as const).filter((s) => !signals.includes(s));
  const ignore = () => undefined;
  for (const s of signals) process.on(s, onSignal);
  for (const s of ignored) process.on(s, ignore);
  return {
    remove: () => {
      for (const s of signals) process.off(s, onSignal);
      for (const s of ignored) process.off(s, ignore);
    },
    stopped,
  };
}

/** Stops several things in reverse start order, every one even if an earlier one failed. */
export async function stopAll(things: readonly Stoppable[]): Promise<void> {
  const failures: unknown[] = [];
  for (const thing of [...things].reverse()) {
    try {
      await thing.stop();
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, `${failures.length} component(s) failed to stop`);
}
