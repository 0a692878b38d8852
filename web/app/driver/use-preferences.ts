'use client';

/**
 * The signed-in user's units and language: the home read's (driverHome.get, which the service
 * worker keeps for offline use), or what the settings card saved since, and changed from there.
 * Until the answer comes, the browser's language and metric units.
 *
 * Every card reads the text this makes (DriverTextContext), so a new one re-renders the whole
 * page: it is made anew only when the language or a unit actually changes, not on every read of
 * the same preferences (a phone's main thread pays for each such render).
 */
import { startTransition, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { driverApi, readWithFreshness } from './driver-api.ts';
import { type DriverText, driverText, type Locale, pickLocale } from './i18n/i18n.ts';
import type { Preferences } from './use-driver-home.ts';

export type { Preferences } from './use-driver-home.ts';

const samePreferences = (a: Preferences | null, b: Preferences) =>
  a !== null && a.locale === b.locale && a.volumeUnit === b.volumeUnit && a.distanceUnit === b.distanceUnit;

/**
 * `loaded`: the preferences of the latest home read (null until it answers); `reload` reads the
 * home again (after a save, so the worker's offline copy has the new ones).
 */
export function usePreferences(
  loaded: Preferences | null,
  reload: () => Promise<void>,
): {
  text: DriverText;
  preferences: Preferences | null;
  save: (change: Partial<Preferences>) => Promise<void>;
} {
  // What a save answered, and which home read it was saved over: a newer read supersedes it.
  const [saved, setSaved] = useState<{ over: Preferences | null; value: Preferences } | null>(null);
  const loadedRef = useRef(loaded);
  loadedRef.current = loaded;
  const latest = saved !== null && saved.over === loaded ? saved.value : loaded;
  // The same preferences keep the object shown (the settings card renders only on a change).
  const shownRef = useRef<Preferences | null>(null);
  const preferences =
    latest !== null && samePreferences(shownRef.current, latest) ? shownRef.current : latest;
  shownRef.current = preferences;
  // The browser's language as the locale it picks (not the list): English, like the server's
  // HTML, until mounted; an English browser then changes nothing and causes no second render.
  const [browserLocale, setBrowserLocale] = useState<Locale>('en');

  useEffect(() => {
    const browser = pickLocale(
      null,
      navigator.languages?.length ? navigator.languages : [navigator.language],
    );
    if (browser !== 'en') startTransition(() => setBrowserLocale(browser));
  }, []);

  const save = useCallback(
    async (change: Partial<Preferences>) => {
      const keep = (value: Preferences) => setSaved({ over: loadedRef.current, value });
      keep(await driverApi.auth.setPreferences.mutate(change));
      // Read back what the cloud now holds, and the home again: the worker's offline copy is the
      // home read's, which must carry the new language and units.
      keep((await readWithFreshness('auth.preferences', () => driverApi.auth.preferences.query())).data);
      void reload();
    },
    [reload],
  );

  const locale = pickLocale(preferences?.locale ?? null, [browserLocale]);
  const volume = preferences?.volumeUnit ?? 'l';
  const distance = preferences?.distanceUnit ?? 'km';
  const text = useMemo(() => driverText(locale, { volume, distance }), [locale, volume, distance]);
  useEffect(() => {
    document.documentElement.lang = text.locale;
  }, [text.locale]);
  return { text, preferences, save };
}
