// Stage 1: normalise the raw text and route on a bool case: text left → true, none → false.
import { worker } from 'switchyardjs';

export default worker(
  'ingest',
  async function* (id, { readFile, writeFile }) {
    const raw = await (await readFile('raw', id)).text();
    const clean = raw.replace(/\s+/g, ' ').trim();
    const out = await writeFile('clean', id);
    await out.write(clean);
    yield [id, clean.length > 0];
  },
  { retry: { maxAttempts: 3, initialDelayMs: 50 } },
);
