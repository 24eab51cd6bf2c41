// Media type ↔ file extension, as the reference service decides them with Python's
// mimetypes: an input's type comes from its key's extension (guess_type), an output's key
// gets the extension of its type (guess_extension). Only the engine's media types matter.

import type { MediaType } from './wire.js';

const BY_EXTENSION: Readonly<Record<string, MediaType>> = {
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.jpe': 'image/jpeg',
  '.png': 'image/png',
  '.txt': 'text/plain', '.text': 'text/plain',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg', '.oga': 'audio/ogg',
};

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

/** The media type an object key's extension stands for, or undefined (no or unknown extension). */
export function mediaTypeOfKey(key: string): MediaType | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const ext = name.slice(dot);
  return BY_EXTENSION[ext] ?? BY_EXTENSION[ext.toLowerCase()];
}

/** The extension an output of this type is stored with, dot included. */
export function extensionOf(type: MediaType): string {
  return EXTENSION_OF[type];
}
