/**
 * Checks for what ends up in a message header or a provider request: e-mail addresses, phone
 * numbers, subjects. Each answers with the reason (for a form's field error) or null.
 *
 * Why refuse CR/LF outright instead of trusting the mailer's encoding: a subject or address with
 * a line break is never legitimate, and refusing it at enqueue means nothing is queued for it
 * (issue 16, "Bad input") and no later component has to be right about escaping.
 */

const LINE_BREAK = /[\r\n\0]/;
// Deliberately plain (RFC 5322's full grammar accepts quoted locals and comments nobody types):
// a local part of common characters, one @, a domain of labels with a dot.
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
/** E.164: + and up to 15 digits, no leading 0 (what SMS providers take). */
export const E164 = /^\+[1-9][0-9]{6,14}$/;

export function emailProblem(address: string): string | null {
  if (LINE_BREAK.test(address)) return 'must not contain a line break (header injection)';
  if (address.length > 254) return 'is longer than 254 characters';
  if (!EMAIL.test(address)) return 'is not an e-mail address (name@example.com)';
  return null;
}

export function phoneProblem(phone: string): string | null {
  if (LINE_BREAK.test(phone)) return 'must not contain a line break';
  if (!E164.test(phone)) return 'is not a phone number in international form (+4915112345678)';
  return null;
}

export function headerTextProblem(text: string): string | null {
  return LINE_BREAK.test(text) ? 'must not contain a line break (header injection)' : null;
}

/** A time of day for quiet hours, HH:MM (24 h). */
export const TIME_OF_DAY = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

export function timeZoneProblem(tz: string): string | null {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return null;
  } catch {
    return 'is not a time zone (e.g. Europe/Berlin)';
  }
}
