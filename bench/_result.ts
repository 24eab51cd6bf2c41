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
