'use client';

/**
 * The signed-in user's units and language (auth.preferences), read like the other cards (the
 * service worker keeps the last answer for offline use) and changed from the settings card.
 * Until the answer comes, the browser's language and metric units.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { driverApi, readWithFreshness } from './driver-api.ts';
import { type DriverText, driverText, pickLocale } from './i18n/i18n.ts';

export type Preferences = Awaited<ReturnType<typeof driverApi.auth.preferences.query>>;

export function usePreferences(online: boolean): {
  text: DriverText;
  preferences: Preferences | null;
  save: (change: Partial<Preferences>) => Promise<void>;
} {
  const [preferences, setPreferences] = useState<Preferences | null>(null);
  const [browser, setBrowser] = useState<readonly string[]>([]);

  const load = useCallback(async () => {
    try {
      setPreferences(
        (await readWithFreshness('auth.preferences', () => driverApi.auth.preferences.query())).data,
      );
    } catch {
      // Not signed in or nothing cached: the page says why elsewhere; keep the defaults.
    }
  }, []);

  useEffect(() => {
    setBrowser(navigator.languages?.length ? navigator.languages : [navigator.language]);
  }, []);
  useEffect(() => {
    if (online) void load();
  }, [online, load]);
  useEffect(() => {
    // A fresh page (online or not) reads the cached answer too.
    void load();
  }, [load]);

  const save = useCallback(
    async (change: Partial<Preferences>) => {
      setPreferences(await driverApi.auth.setPreferences.mutate(change));
      // Read again so the service worker's copy (used offline) is the new one.
      await load();
    },
    [load],
  );

  const text = useMemo(
    () =>
      driverText(pickLocale(preferences?.locale ?? null, browser), {
        volume: preferences?.volumeUnit ?? 'l',
        distance: preferences?.distanceUnit ?? 'km',
      }),
    [preferences, browser],
  );
  useEffect(() => {
    document.documentElement.lang = text.locale;
  }, [text.locale]);
  return { text, preferences, save };
}
