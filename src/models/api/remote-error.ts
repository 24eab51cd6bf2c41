// An RPC that failed on the serving side arrives as the remote's description of its error,
// in Python's repr form (`ValueError('bad')`, what Lightbus sends) plus a trace. The caller
// gets the type and message back as fields.

import { SwitchyardError } from '../../errors.js';
import { parseRepr } from '../../transports/bus/python-repr.js';

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

export { reprOf, parseRepr } from '../../transports/bus/python-repr.js';
