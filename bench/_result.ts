// The one line every benchmark ends with, per measured case:
//   RESULT bench=NAME case=CASE against=BASELINE unit=UNIT ours=N baseline=N ratio=N
// ratio = ours/baseline, higher is better (latencies are inverted before printing).

export interface ResultLine {
  bench: string;
  case: string;
  against: string;
  unit: string;
  ours: number;
  baseline: number;
  /** true when smaller is better (latencies): the ratio is inverted so higher is better. */
  lowerIsBetter?: boolean;
}

export function printResult(r: ResultLine): void {
  const ratio = r.lowerIsBetter ? r.baseline / r.ours : r.ours / r.baseline;
  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(3));
  console.log(`RESULT bench=${r.bench} case=${r.case} against=${r.against} unit=${r.unit} ours=${fmt(r.ours)} baseline=${fmt(r.baseline)} ratio=${ratio.toFixed(3)}`);
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Runs every side once per round, the order reversed every other round so that no side
 * always meets the warmer server; returns each side's results in round order.
 */
export async function alternate<K extends string, T>(
  rounds: number,
  sides: Record<K, () => Promise<T>>,
  onRound?: (round: number, last: Record<K, T>) => void,
): Promise<Record<K, T[]>> {
  const names = Object.keys(sides) as K[];
  const out = Object.fromEntries(names.map((n) => [n, [] as T[]])) as Record<K, T[]>;
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) out[name].push(await sides[name]());
    onRound?.(round, Object.fromEntries(names.map((n) => [n, out[n].at(-1)!])) as Record<K, T>);
  }
  return out;
}
