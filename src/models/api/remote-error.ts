// An RPC that failed on the serving side arrives as the remote's description of its error,
// in Python's repr form (`ValueError('bad')`, what Lightbus sends) plus a trace. The caller
// gets the type and message back as fields.

import { SwitchyardError } from '../../errors.js';

export class RemoteError extends SwitchyardError {
  /** The error's type on the serving side, e.g. "ValueError" or "TypeError". */
  readonly remoteType: string;
  readonly remoteMessage: string;
  /** The serving side's stack trace, as it sent it. */
  readonly trace: string;
  constructor(api: string, procedure: string, description: string, trace: string) {
    const { type, message } = parseRepr(description);
    super('SY_ERR_REMOTE', 'runtime', `SY_ERR_REMOTE: RPC ${api}.${procedure}() failed on the serving side with ${type}: ${message}`);
    this.remoteType = type;
    this.remoteMessage = message;
    this.trace = trace;
  }
}

/** `Name('message')` in Python's quoting, as Lightbus's `repr(exception)`. */
export function reprOf(error: unknown): string {
  if (error instanceof Error) return `${error.name || 'Error'}(${pyQuote(error.message)})`;
  return `Error(${pyQuote(String(error))})`;
}

function pyQuote(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const escaped = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return quote + (quote === "'" ? escaped.replace(/'/g, "\\'") : escaped) + quote;
}

function pyUnquote(s: string): string {
  const body = s.slice(1, -1);
  return body.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c));
}

export function parseRepr(description: string): { type: string; message: string } {
  const m = /^([A-Za-z_][\w.]*)\(([\s\S]*)\)$/.exec(description);
  if (!m) return { type: 'Error', message: description };
  const inner = m[2]!;
  if (/^'[\s\S]*'$|^"[\s\S]*"$/.test(inner)) return { type: m[1]!, message: pyUnquote(inner) };
  return { type: m[1]!, message: inner };
}
