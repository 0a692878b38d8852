/**
 * Shares of a whole number that add up to it exactly (the largest-remainder method, Hamilton's):
 * each part gets the floor of its exact share, and the units left go to the largest remainders,
 * ties to the earlier key so a rerun gives the same answer. IFTA wants the per-jurisdiction
 * miles to sum to the odometer's miles; rounding each share on its own can miss by one per
 * jurisdiction.
 */
export function allocateByShare<K>(total: number, weights: ReadonlyMap<K, number>): Map<K, number> {
  if (!Number.isSafeInteger(total) || total < 0)
    throw new RangeError(`total must be a whole number >= 0: ${total}`);
  const entries = [...weights].filter(([, w]) => w > 0);
  const out = new Map<K, number>([...weights.keys()].map((k) => [k, 0]));
  const sum = entries.reduce((s, [, w]) => s + w, 0);
  if (entries.length === 0 || sum <= 0) return out;
  let given = 0;
  const remainders = entries.map(([k, w], index) => {
    const exact = (total * w) / sum;
    const floor = Math.floor(exact);
    out.set(k, floor);
    given += floor;
    return { k, rest: exact - floor, index };
  });
  remainders.sort((a, b) => b.rest - a.rest || a.index - b.index);
  for (let i = 0; i < total - given; i++) {
    const r = remainders[i % remainders.length]!;
    out.set(r.k, out.get(r.k)! + 1);
  }
  return out;
}
