// Stage 3b: summarise a statement and route on an int case: 0 short, 1 long.
import { worker } from 'switchyardjs';

export default worker(
  'summarize',
  async (id, { readFile, writeFile }) => {
    const text = await (await readFile('clean', id)).text();
    const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
    const counts = new Map<string, number>();
    for (const word of words) if (word.length > 3) counts.set(word, (counts.get(word) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3).map(([w]) => w);
    const out = await writeFile('summaries', id);
    await out.write(JSON.stringify({ words: words.length, top }) + '\n');
    return [[id, words.length < 20 ? 0 : 1]];
  },
  { concurrency: 4 },
);
