/** An IFTA quarter (`2026Q3`): returns are filed per calendar quarter, UTC days. */
import { CloudError, CloudErrorCode } from '../errors.ts';

export interface IftaQuarter {
  year: number;
  quarter: 1 | 2 | 3 | 4;
}

export const QUARTER_PATTERN = /^(\d{4})Q([1-4])$/;

export function parseQuarter(text: string): IftaQuarter {
  const m = QUARTER_PATTERN.exec(text.trim().toUpperCase());
  if (!m)
    throw new CloudError(CloudErrorCode.ReportInputInvalid, `a quarter is written like 2026Q3: ${text}`);
  return { year: Number(m[1]), quarter: Number(m[2]) as IftaQuarter['quarter'] };
}

export function formatQuarter(q: IftaQuarter): string {
  return `${q.year}Q${q.quarter}`;
}

/** [from, to) in epoch ms, UTC. */
export function quarterRange(q: IftaQuarter): { from: number; to: number } {
  return {
    from: Date.UTC(q.year, (q.quarter - 1) * 3, 1),
    to: Date.UTC(q.year, q.quarter * 3, 1),
  };
}

/** The quarter a time falls in. */
export function quarterOf(ts: number): IftaQuarter {
  const d = new Date(ts);
  return {
    year: d.getUTCFullYear(),
    quarter: (Math.floor(d.getUTCMonth() / 3) + 1) as IftaQuarter['quarter'],
  };
}

/** The last quarter that has ended by `now` (what is filed next). */
export function lastClosedQuarter(now: number): IftaQuarter {
  const q = quarterOf(now);
  return q.quarter === 1
    ? { year: q.year - 1, quarter: 4 }
    : { year: q.year, quarter: (q.quarter - 1) as 1 | 2 | 3 };
}
