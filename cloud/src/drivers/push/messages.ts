/**
 * The drivers' push notifications in the driver's language (user_preferences.locale; English when
 * unset) and distance unit. Plain strings: a push shows as a system notification, not in a page,
 * so they follow the driver pages' wording (web/app/driver/i18n) but live here, where they are sent.
 */

export type PushLocale = 'en' | 'es';
export type DistanceUnit = 'km' | 'mi';

const KM_PER_MILE = 1.609344;

export interface PushText {
  title: string;
  body: string;
}

function distance(km: number, unit: DistanceUnit, locale: PushLocale): string {
  const value = unit === 'mi' ? km / KM_PER_MILE : km;
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(value)} ${unit}`;
}

export function lowRangeText(
  locale: PushLocale,
  unit: DistanceUnit,
  m: { vehicle: string; rangeKm: number },
): PushText {
  const left = distance(m.rangeKm, unit, locale);
  return locale === 'es'
    ? {
        title: `Autonomía baja: quedan unos ${left}`,
        body: `A ${m.vehicle} le quedan unos ${left} de combustible. Reposta pronto.`,
      }
    : {
        title: `Low range: about ${left} left`,
        body: `${m.vehicle} has about ${left} of fuel left. Refuel soon.`,
      };
}

export function serviceDueText(
  locale: PushLocale,
  m: { vehicle: string; program: string; overdue: boolean; dueAt: number | null },
): PushText {
  const date =
    m.dueAt === null ? null : new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(m.dueAt);
  if (locale === 'es')
    return m.overdue
      ? { title: `Servicio vencido: ${m.program}`, body: `${m.vehicle} tiene pendiente «${m.program}».` }
      : {
          title: `Servicio próximo: ${m.program}`,
          body: `${m.vehicle} necesita «${m.program}» pronto${date ? ` (hacia el ${date})` : ''}.`,
        };
  return m.overdue
    ? { title: `Service overdue: ${m.program}`, body: `${m.vehicle} is overdue for "${m.program}".` }
    : {
        title: `Service due soon: ${m.program}`,
        body: `${m.vehicle} needs "${m.program}" soon${date ? ` (by about ${date})` : ''}.`,
      };
}

export function challengeResultText(
  locale: PushLocale,
  m: {
    challenge: string;
    team: string | null;
    rank: number | null;
    of: number;
    eligible: boolean;
    met: boolean;
    points: number;
  },
): PushText {
  const es = locale === 'es';
  const title = es ? `Resultados del reto: ${m.challenge}` : `Challenge results: ${m.challenge}`;
  const parts: string[] = [];
  if (!m.eligible)
    parts.push(
      es
        ? 'No llegaste a la distancia mínima, así que no entraste en la clasificación.'
        : 'You did not reach the minimum distance, so you were not ranked.',
    );
  else if (m.rank !== null)
    parts.push(
      m.team
        ? es
          ? `Tu equipo ${m.team} quedó en el puesto ${m.rank} de ${m.of}.`
          : `Your team ${m.team} finished ${m.rank} of ${m.of}.`
        : es
          ? `Quedaste en el puesto ${m.rank} de ${m.of}.`
          : `You finished ${m.rank} of ${m.of}.`,
    );
  if (m.met && m.points > 0)
    parts.push(es ? `Objetivo cumplido: +${m.points} puntos.` : `Target met: +${m.points} points.`);
  else if (m.eligible && !m.met) parts.push(es ? 'Objetivo no cumplido.' : 'Target not met.');
  return { title, body: parts.join(' ') };
}
