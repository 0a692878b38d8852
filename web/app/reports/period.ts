/**
 * The report builder's periods: presets as UTC days (what the cloud's reports count in), a custom
 * range of UTC days ("to" inclusive), or an IFTA quarter. Pure, so the page and a saved report
 * reopened next month mean the same: "last month" is always the month before today's.
 */
export const PRESETS = [
  ['last-7-days', 'Last 7 days'],
  ['last-30-days', 'Last 30 days'],
  ['this-month', 'This month'],
  ['last-month', 'Last month'],
  ['last-quarter', 'Last quarter'],
  ['custom', 'Custom dates'],
] as const;
export type Preset = (typeof PRESETS)[number][0];

const DAY = 86_400_000;

/** [from, to) epoch ms of a preset at `now`. */
export function presetRange(preset: Exclude<Preset, 'custom'>, now: number): { from: number; to: number } {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const tomorrow = Math.floor(now / DAY) * DAY + DAY;
  switch (preset) {
    case 'last-7-days':
      return { from: tomorrow - 7 * DAY, to: tomorrow };
    case 'last-30-days':
      return { from: tomorrow - 30 * DAY, to: tomorrow };
    case 'this-month':
      return { from: Date.UTC(y, m, 1), to: Date.UTC(y, m + 1, 1) };
    case 'last-month':
      return { from: Date.UTC(y, m - 1, 1), to: Date.UTC(y, m, 1) };
    case 'last-quarter': {
      const q = Math.floor(m / 3);
      return { from: Date.UTC(y, (q - 1) * 3, 1), to: Date.UTC(y, q * 3, 1) };
    }
  }
}

/** The quarter before the one `now` is in, as "2026Q2" (IFTA files the quarter just ended). */
export function lastQuarter(now: number): string {
  const d = new Date(now);
  const q = Math.floor(d.getUTCMonth() / 3);
  return q === 0 ? `${d.getUTCFullYear() - 1}Q4` : `${d.getUTCFullYear()}Q${q}`;
}
