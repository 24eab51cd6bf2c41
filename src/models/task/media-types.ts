// Media type ↔ file extension, as the reference service decides them with Python's
// mimetypes: an input's type comes from its key (guess_type, python-mimetypes.ts), an
// output's key gets the extension of its type (guess_extension).

import { guessType } from './python-mimetypes.js';
import type { MediaType } from './wire.js';

/**
 * guess_extension of each engine type in Python 3.11's built-in table, except audio/ogg:
 * that table has no extension for it (the reference would store "{uuid}None"), so .ogg.
 */
const EXTENSION_OF: Readonly<Record<MediaType, string>> = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'text/plain': '.txt',
  'text/csv': '.csv',
  'application/json': '.json',
  'application/pdf': '.pdf',
  'application/zip': '.zip',
  'audio/mpeg': '.mp3',
  'audio/ogg': '.ogg',
};

/**
 * The media type an object key stands for, as the reference's `mimetypes.guess_type(key)[0]`
 * (any type of Python's table, not only the engine's), or undefined.
 */
export function mediaTypeOfKey(key: string): string | undefined {
  return guessType(key);
}

/** The extension an output of this type is stored with, dot included. */
export function extensionOf(type: MediaType): string {
  return EXTENSION_OF[type];
}
