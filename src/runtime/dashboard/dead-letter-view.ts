// Dead letters as the dashboard and the CLI show them: plain JSON, the body as a short
// preview (text when it reads as text, hex otherwise), never the whole of a large body.

import type { DeadLetterView } from '../../observability/dashboard/snapshot.js';
import type { DeadLetter } from '../../transports/dead-letters.js';

export type { DeadLetterView };

export const PREVIEW_BYTES = 256;

export function viewOf(letter: DeadLetter): DeadLetterView {
  const head = Buffer.from(letter.body.buffer, letter.body.byteOffset, Math.min(letter.body.byteLength, PREVIEW_BYTES));
  const text = head.toString('utf8');
  // Printable when it decodes cleanly (a multi-byte character cut at the end is allowed) and has no control characters but tab/newline.
  const printable = !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) && !text.slice(0, -2).includes('\ufffd');
  return {
    id: letter.id,
    queue: letter.queue,
    source: letter.source,
    reason: letter.reason,
    ...(letter.attempts !== undefined ? { attempts: letter.attempts } : {}),
    headers: letter.headers,
    bytes: letter.body.byteLength,
    preview: printable ? text : head.toString('hex'),
    previewEncoding: printable ? 'text' : 'hex',
    truncated: letter.body.byteLength > PREVIEW_BYTES,
  };
}
