'use client';

/** Units and language for this user (saved by the cloud, so they follow the driver to another phone). */
import { type ChangeEvent, useId, useState } from 'react';
import { useDriverText } from '../i18n/driver-text-context.tsx';
import { LOCALES, type Locale } from '../i18n/i18n.ts';
import type { Preferences } from '../use-preferences.ts';

/** Each language by its own name (not translated: a reader finds their language in any of them). */
const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', es: 'Español' };

export function SettingsCard({
  preferences,
  online,
  onSave,
}: {
  preferences: Preferences | null;
  online: boolean;
  onSave: (change: Partial<Preferences>) => Promise<void>;
}) {
  const { t } = useDriverText();
  const id = useId();
  const [said, setSaid] = useState('');
  const change = (field: keyof Preferences) => async (e: ChangeEvent<HTMLSelectElement>) => {
    const value = e.target.value === '' ? null : e.target.value;
    try {
      await onSave({ [field]: value } as Partial<Preferences>);
      setSaid('settings.saved');
    } catch (err) {
      setSaid(err instanceof Error ? err.message : 'error');
    }
  };
  const disabled = !online || preferences === null;
  return (
    <section aria-labelledby={`${id}-title`} className="card" data-testid="settings">
      <h2 id={`${id}-title`}>{t('settings.title')}</h2>
      <div className="field">
        <label htmlFor={`${id}-locale`}>{t('settings.language')}</label>
        <select
          id={`${id}-locale`}
          value={preferences?.locale ?? ''}
          disabled={disabled}
          onChange={change('locale')}
        >
          <option value="">{t('settings.browserLanguage')}</option>
          {LOCALES.map((l) => (
            <option key={l} value={l} lang={l}>
              {LANGUAGE_NAMES[l]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-volume`}>{t('settings.volume')}</label>
        <select
          id={`${id}-volume`}
          value={preferences?.volumeUnit ?? 'l'}
          disabled={disabled}
          onChange={change('volumeUnit')}
        >
          <option value="l">{t('settings.litres')}</option>
          <option value="gal">{t('settings.gallons')}</option>
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-distance`}>{t('settings.distance')}</label>
        <select
          id={`${id}-distance`}
          value={preferences?.distanceUnit ?? 'km'}
          disabled={disabled}
          onChange={change('distanceUnit')}
        >
          <option value="km">{t('settings.km')}</option>
          <option value="mi">{t('settings.miles')}</option>
        </select>
      </div>
      <p role="status" className="hint">
        {!online
          ? t('settings.needsConnection')
          : said === 'settings.saved'
            ? t('settings.saved')
            : said
              ? t('settings.failed', { reason: said })
              : ''}
      </p>
    </section>
  );
}
