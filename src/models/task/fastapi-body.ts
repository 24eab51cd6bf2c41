// Reading a JSON request body the way FastAPI does (fastapi/routing.py get_request_handler):
//   - no body at all: the body is missing (422 "Field required");
//   - no content-type, or application/json, or application/*+json: json.loads(body) —
//     a JSONDecodeError is 422 json_invalid with Python's message and character offset; bytes
//     that do not decode are 400 "There was an error parsing the body";
//   - any other content type: the body stays bytes and fails the model (422
//     model_attributes_type at ["body"]).
// Nothing of the body is repeated in any of these answers.

import { loadsBytes } from './python-json.js';

/** Deeper nesting is refused (Python's json fails with RecursionError near 1,000 levels). */
export const MAX_JSON_DEPTH = 512;

export type BodyRead =
  | { readonly kind: 'missing' }
  | { readonly kind: 'json'; readonly value: unknown }
  /** A content type FastAPI does not parse as JSON: the body is bytes to the model. */
  | { readonly kind: 'not-json' }
  | { readonly kind: 'json-invalid'; readonly pos: number; readonly message: string }
  | { readonly kind: 'undecodable' };

/** Python's str.strip() whitespace (wider than JavaScript's at \x1c-\x1f and \x85, narrower at \ufeff). */
const PY_SPACE = '[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'g');

/** email.message.Message().get_content_type() of a content-type header value. */
export function contentTypeOf(value: string): string {
  const semi = value.indexOf(';');
  const ctype = (semi === -1 ? value : value.slice(0, semi)).replace(PY_STRIP, '').toLowerCase();
  return ctype.split('/').length === 2 ? ctype : 'text/plain';
}

/** Whether FastAPI parses a body with this content-type header as JSON. */
export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return true;
  const [main, sub] = contentTypeOf(header).split('/') as [string, string];
  return main === 'application' && (sub === 'json' || sub.endsWith('+json'));
}

export function readJsonBody(raw: Uint8Array, contentType: string | undefined): BodyRead {
  if (raw.length === 0) return { kind: 'missing' };
  if (!isJsonContentType(contentType)) return { kind: 'not-json' };
  const result = loadsBytes(raw, MAX_JSON_DEPTH);
  if (result.ok) return { kind: 'json', value: result.value };
  switch (result.reason) {
    case 'syntax':
      return { kind: 'json-invalid', pos: result.pos, message: result.msg };
    case 'depth':
      return { kind: 'json-invalid', pos: result.pos, message: `Nesting deeper than ${MAX_JSON_DEPTH} levels` };
    case 'encoding':
      return { kind: 'undecodable' };
  }
}
