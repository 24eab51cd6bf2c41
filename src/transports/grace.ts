// One rule for every consumer's stop(): wait for the running handlers, at most graceMs
// when given (forever otherwise), without leaving a timer behind.

export async function settleWithin(running: Iterable<Promise<unknown>>, graceMs: number | undefined): Promise<void> {
  const all = Promise.allSettled([...running]);
  if (graceMs === undefined) {
    await all;
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
  clearTimeout(timer);
}
