// Small statistics helpers for benchmarks.

/** The q-quantile (0..1) of `values` by nearest rank; NaN when empty. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export const round = (v: number, digits = 2): number => Number(v.toFixed(digits));
