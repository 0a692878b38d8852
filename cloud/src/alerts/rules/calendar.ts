/**
 * Is an instant inside a weekly calendar of a time zone? Wall-clock days and HH:MM in that zone,
 * so a "Mon-Fri 07:00-18:00" calendar stays 07:00-18:00 local across a DST change (the UTC offset
 * moves, the hours do not). Intl does the zone arithmetic (the tz database of Node's ICU).
 */
import type { WeeklyCalendar } from './rule.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Local weekday (0 = Sunday) and minutes since local midnight of `ts` in `timeZone`. */
export function localTime(ts: number, timeZone: string): { day: number; minutes: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(ts).map((p) => [p.type, p.value]));
  return { day: WEEKDAYS[parts.weekday!]!, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function inCalendar(ts: number, calendar: WeeklyCalendar): boolean {
  const { day, minutes } = localTime(ts, calendar.timeZone);
  return calendar.periods.some(
    (p) => p.days.includes(day) && minutes >= toMinutes(p.from) && minutes < toMinutes(p.to),
  );
}
