import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { en } from './en.ts';
import { es } from './es.ts';
import { CATALOGUES, driverText, type MessageKey, pickLocale, type TermKind } from './i18n.ts';

const placeholders = (m: string | { one: string; other: string }) =>
  [...(typeof m === 'string' ? m : `${m.one} ${m.other}`).matchAll(/\{(\w+)\}/g)].map((x) => x[1]).sort();
const unique = (xs: (string | undefined)[]) => [...new Set(xs)];

describe('driver message catalogues', () => {
  it('every language has exactly the English keys, the same placeholders and plural shapes', () => {
    for (const [locale, messages] of Object.entries(CATALOGUES)) {
      expect(Object.keys(messages).sort(), locale).toEqual(Object.keys(en).sort());
      for (const key of Object.keys(en) as MessageKey[]) {
        const a = en[key];
        const b = messages[key];
        expect(typeof b, `${locale} ${key}`).toBe(typeof a);
        expect(unique(placeholders(b)), `${locale} ${key}`).toEqual(unique(placeholders(a)));
        for (const text of typeof b === 'string' ? [b] : [b.one, b.other])
          expect(text.trim(), key).not.toBe('');
      }
    }
  });

  it('Spanish is really translated: only symbols, units and brand names read the same as English', () => {
    const same = (Object.keys(en) as MessageKey[]).filter(
      (k) => JSON.stringify(en[k]) === JSON.stringify(es[k]),
    );
    expect(same.sort()).toEqual(
      [
        'fuelOption.adblue',
        'programme.final',
        'recent.price',
        'refuel.summary',
        'unit.gal',
        'unit.km',
        'unit.kmh',
        'unit.kwh',
        'unit.l',
        'unit.mi',
        'unit.mph',
      ].sort(),
    );
  });

  it('no driver page has English text outside the catalogue (JSX text between tags)', () => {
    const dir = path.join(import.meta.dirname, '..');
    const files = [
      ...readdirSync(dir).filter((f) => f.endsWith('.tsx')),
      ...readdirSync(path.join(dir, 'sections'))
        .filter((f) => f.endsWith('.tsx'))
        .map((f) => `sections/${f}`),
    ];
    expect(files.length).toBeGreaterThan(10);
    const offenders: string[] = [];
    for (const f of files) {
      const src = readFileSync(path.join(dir, f), 'utf8').replace(/\{\/\*[\s\S]*?\*\/\}/g, '');
      // Text directly inside JSX: ">Some words<" or ">Some words{" (a word of 3+ letters; code
      // such as `n > 0 ? 'a' : 'b'` has quotes, which JSX text here never does).
      for (const m of src.matchAll(/>([^<>{}()=;'`"]*[A-Za-z]{3,}[^<>{}()=;'`"]*)[<{]/g)) {
        const text = m[1]!.trim();
        if (text && !/^[\w.]+$/.test(text)) offenders.push(`${f}: ${text}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe('t() and the formatters', () => {
  it('puts values in, picks plural forms, and formats numbers and units by locale', () => {
    const gal = driverText('es', { volume: 'gal', distance: 'mi' });
    expect(gal.t('announce.refuelsSent', { n: 1 })).toBe('Un repostaje enviado y confirmado.');
    expect(gal.t('announce.refuelsSent', { n: 3 })).toBe('3 repostajes enviados y confirmados.');
    expect(gal.volume(42.5)).toBe('11,23 gal');
    expect(gal.distance(100)).toBe('62 mi');
    expect(gal.num(12345.5, 1)).toBe('12.345,5');
    const metric = driverText('en', { volume: 'l', distance: 'km' });
    expect(metric.volume(42.5)).toBe('42.50 L');
    expect(metric.num(12345.5, 1)).toBe('12,345.5');
    expect(metric.t('fuel.inTank', { pct: 40 })).toBe('40 % in the tank');
  });

  it('names every code the server sends (score metrics, scored event types, shipped badges) in each language', () => {
    const cloud = path.resolve(import.meta.dirname, '../../../../cloud/src');
    const score = readFileSync(path.join(cloud, 'drivers/scoring/score.ts'), 'utf8');
    const metricBlock = score.slice(score.indexOf('export const METRIC_INFO'));
    const metrics = [
      ...metricBlock.slice(0, metricBlock.indexOf('};')).matchAll(/^\s+(\w+): \{ label:/gm),
    ].map((m) => m[1] as string);
    const explain = readFileSync(path.join(cloud, 'drivers/scoring/explain.ts'), 'utf8');
    const events = [...(explain.match(/ev\.type IN \(([^)]*)\)/)?.[1] ?? '').matchAll(/'(\w+)'/g)].map(
      (m) => m[1] as string,
    );
    const dataset = JSON.parse(readFileSync(path.join(cloud, 'drivers/badges/badges.v1.json'), 'utf8')) as {
      badges: { id: string }[];
    };
    expect(metrics.length).toBeGreaterThanOrEqual(7);
    expect(events).toContain('harsh_brake');
    const codes: (readonly [TermKind, string])[] = [
      ...metrics.map((c) => ['metric', c] as const),
      ...events.map((c) => ['event', c] as const),
      ...dataset.badges.flatMap((b) => [['badge', b.id] as const, ['badgeRule', b.id] as const]),
    ];
    const spanish = driverText('es', { volume: 'l', distance: 'km' });
    for (const [kind, code] of codes) {
      expect(`term.${kind}.${code}` in en, `${kind} ${code}`).toBe(true);
      expect(spanish.term(kind, code, 'FALLBACK'), `${kind} ${code}`).not.toBe('FALLBACK');
    }
    // A code the catalogue does not know (a tenant's own badge) keeps the server's text.
    expect(spanish.term('badge', 'tenant-made', 'Tenant made')).toBe('Tenant made');
  });

  it('takes the user preference first, then the browser languages, then English', () => {
    expect(pickLocale('es', ['en-US'])).toBe('es');
    expect(pickLocale(null, ['fr-FR', 'es-MX', 'en'])).toBe('es');
    expect(pickLocale(null, ['fr-FR'])).toBe('en');
  });
});
