// Stage 2: route on a string case, "question" or "statement".
import { worker } from 'switchyardjs';

export default worker('classify', async (id, { readFile }) => {
  const text = await (await readFile('clean', id)).text();
  const question = /\?\s*$/.test(text) || /^(who|what|when|where|why|how|which|does|do|is|are|can)\b/i.test(text);
  return [[id, question ? 'question' : 'statement']];
});
