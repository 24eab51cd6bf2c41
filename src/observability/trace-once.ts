// A failure that repeats (a retry of an unreachable responder, a handler failing on every
// attempt) is logged one line per attempt, and its stack trace once: the first time an error
// of that kind, thrown at that place, is logged it goes in whole; after that only its type,
// code and message (issue 15: a full trace on every retry was noise).

/** An error as a repeated log line carries it: no stack. */
export interface ErrorSummary {
  readonly type: string;
  readonly message: string;
  readonly code?: string;
  /** Says where the trace is: in an earlier line of this log. */
  readonly stack: string;
}

/** What identifies "the same failure": its type, code and the frames it was thrown through (not the message, which may hold ids). */
function signatureOf(err: Error): string {
  const code = (err as { code?: unknown }).code;
  const frames = typeof err.stack === 'string' ? err.stack.split('\n').filter((l) => /^\s+at /.test(l)).join('\n') : '';
  return `${err.name}\u0000${typeof code === 'string' ? code : ''}\u0000${frames || err.message}`;
}

/**
 * Returns `err` itself the first time a failure of its signature is seen (pino logs it with
 * its stack), and an ErrorSummary after that. Remembers up to `limit` signatures (oldest
 * forgotten first), so a flood of distinct errors cannot grow it.
 */
export function traceOnce(limit = 256): (err: unknown) => unknown {
  const seen = new Set<string>();
  return (err) => {
    if (!(err instanceof Error)) return err;
    const signature = signatureOf(err);
    if (!seen.has(signature)) {
      if (seen.size >= limit) seen.delete(seen.values().next().value!);
      seen.add(signature);
      return err;
    }
    const code = (err as { code?: unknown }).code;
    return { type: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), stack: '(the same failure as logged before with its trace)' } satisfies ErrorSummary;
  };
}
