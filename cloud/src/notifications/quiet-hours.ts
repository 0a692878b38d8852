/**
 * Quiet hours in the recipient's time zone: "22:00"–"07:00" means from 22:00 local until 07:00
 * local the next morning, whatever the UTC offset is that night (DST-correct: the end is found
 * by asking the zone, not by adding hours).
 */

export interface QuietHours {
  /** HH:MM local */
  start: string;
  end: string;
  timeZone: string;
}

const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
};

/** The wall-clock minute of the day of `at` in `timeZone`. */
export function localMinute(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

function inside(minute: number, start: number, end: number): boolean {
  if (start === end) return false;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/**
 * Null when `at` is outside the quiet hours; else the first instant they are over. Steps a
 * minute at a time from `at` (at most a day's 1,440 steps) so a DST change inside the night is
 * counted as the zone counts it.
 */
export function quietUntil(q: QuietHours, at: Date): Date | null {
  const start = minutes(q.start);
  const end = minutes(q.end);
  if (!inside(localMinute(at, q.timeZone), start, end)) return null;
  // Start from the next whole minute.
  let t = Math.floor(at.getTime() / 60_000) * 60_000 + 60_000;
  for (let i = 0; i < 1500; i++, t += 60_000) {
    if (!inside(localMinute(new Date(t), q.timeZone), start, end)) return new Date(t);
  }
  return new Date(t);
}
