// Lightbus's name placeholders in service and process names: {hostname} {pid} {random4}
// {random8} {random16} {friendly} (SPECS.md §5.5).

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

const ADJECTIVES = ['amber', 'brisk', 'calm', 'deft', 'eager', 'fleet', 'gentle', 'hardy', 'keen', 'lucid'];
const NOUNS = ['badger', 'comet', 'falcon', 'harbor', 'lantern', 'meadow', 'otter', 'quarry', 'signal', 'willow'];

export function expandName(template: string): string {
  const pick = (list: string[]) => list[randomBytes(1)[0]! % list.length]!;
  return template
    .replaceAll('{hostname}', hostname())
    .replaceAll('{pid}', String(process.pid))
    .replaceAll('{random4}', randomBytes(2).toString('hex'))
    .replaceAll('{random8}', randomBytes(4).toString('hex'))
    .replaceAll('{random16}', randomBytes(8).toString('hex'))
    .replaceAll('{friendly}', `${pick(ADJECTIVES)}-${pick(NOUNS)}`);
}
