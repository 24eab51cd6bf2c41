// A Core engine task service: takes a plain-text file, returns statistics about it as JSON.
//   SERVICE_PORT=9090 ENGINE_URLS='["http://localhost:8080"]' switchyard run examples/text-stats-task/text-stats.ts
// then open http://localhost:9090/docs, or POST a ServiceTask to /compute.
import { taskService } from 'switchyardjs/task';

export default taskService(
  {
    name: 'Text Statistics',
    slug: 'text-statistics',
    summary: 'Counts the characters, words and lines of a text and lists its most frequent words.',
    description: 'Takes a UTF-8 text file and returns a JSON document with its character, word and line counts and its ten most frequent words.',
    dataIn: [{ name: 'text', types: ['text/plain'] }],
    dataOut: [{ name: 'result', types: ['application/json'] }],
    tags: ['Natural Language Processing'],
    hasAi: false,
  },
  async ({ text }, { log }) => {
    const content = await text.text();
    const words = content.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
    const counts = new Map<string, number>();
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
    log.debug({ words: words.length }, 'counted');
    return {
      result: {
        type: 'application/json',
        data: JSON.stringify({
          characters: [...content].length,
          words: words.length,
          lines: content === '' ? 0 : content.split(/\r\n|\n/).length - (content.endsWith('\n') ? 1 : 0),
          top_words: top.map(([word, count]) => ({ word, count })),
        }),
      },
    };
  },
);
