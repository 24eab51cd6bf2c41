// Stage 3a: write an acknowledgement of the question and route on an int case (1).
import { worker } from 'switchyardjs';

export default worker('answer', async (id, { readFile, writeFile }) => {
  const question = await (await readFile('clean', id)).text();
  const out = await writeFile('answers', id);
  await out.write(`Q: ${question}\nA: queued for a human; ${question.split(' ').length} words received.\n`);
  return [[id, 1]];
});
