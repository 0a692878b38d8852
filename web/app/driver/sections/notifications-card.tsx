'use client';

/**
 * The driver's push notifications: low range, service due and challenge results, each on or off
 * (notifications.driverPushSettings, saved by the cloud), and turning them on for this phone: a
 * Web Push subscription through the driver worker (/sw.js, scope /driver), when the fleet's server
 * has VAPID keys (notifications.pushKey). Both come with the home read (driverHome.get). The cloud
 * sends them (cloud/src/drivers/push/).
 */
import { type ChangeEvent, useId, useState } from 'react';
import { driverApi } from '../driver-api.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';
import type { Home } from '../use-driver-home.ts';
import { useOwnAnswer } from '../use-own-answer.ts';

type Push = NonNullable<Home['push']>;
const KINDS = ['lowRange', 'serviceDue', 'challengeResults'] as const;

export function NotificationsCard({
  push,
  online,
}: {
  /** The settings and the server's key, from the home read: undefined until it answers, null without. */
  push: Push | null | undefined;
  online: boolean;
}) {
  const { t, distance } = useDriverText();
  const id = useId();
  const [settings, setSettings] = useOwnAnswer<Push['settings'] | null>(push?.settings ?? null);
  const publicKey = push?.publicKey ?? null;
  const [said, setSaid] = useState('');

  const change = (kind: (typeof KINDS)[number]) => async (e: ChangeEvent<HTMLInputElement>) => {
    try {
      const saved = await driverApi.notifications.setDriverPushSettings.mutate({ [kind]: e.target.checked });
      if (settings) setSettings({ ...settings, ...saved });
      setSaid(t('push.saved'));
    } catch (err) {
      setSaid(t('push.failed', { reason: err instanceof Error ? err.message : t('common.unknownError') }));
    }
  };

  const subscribe = async () => {
    try {
      if (!publicKey) throw new Error(t('push.notConfigured'));
      if (!('serviceWorker' in navigator) || !('PushManager' in window))
        throw new Error(t('push.unsupported'));
      // The driver worker shows the pushes (web/sw/sw.ts); registered here too in case the page
      // has not done it yet (it waits for an idle moment).
      const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/driver' });
      await navigator.serviceWorker.ready;
      const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: publicKey });
      const json = sub.toJSON() as { endpoint: string; keys: { p256dh: string; auth: string } };
      await driverApi.notifications.subscribePush.mutate({ endpoint: json.endpoint, keys: json.keys });
      setSaid(t('push.subscribed'));
    } catch (err) {
      setSaid(t('push.failed', { reason: err instanceof Error ? err.message : t('common.unknownError') }));
    }
  };

  const disabled = !online || settings === null;
  return (
    <section aria-labelledby={`${id}-title`} className="card" data-testid="push-settings">
      <h2 id={`${id}-title`}>{t('push.title')}</h2>
      <fieldset>
        <legend>{t('push.legend')}</legend>
        {KINDS.map((kind) => (
          <label key={kind} className="choice">
            <input
              type="checkbox"
              checked={settings?.[kind] ?? true}
              disabled={disabled}
              onChange={change(kind)}
            />{' '}
            {t(`push.${kind}`, { distance: distance(settings?.lowRangeKm ?? 50, 0) })}
          </label>
        ))}
      </fieldset>
      {publicKey ? (
        <button type="button" disabled={!online} onClick={subscribe}>
          {t('push.subscribe')}
        </button>
      ) : null}
      <p role="status" className="hint">
        {!online ? t('push.needsConnection') : said}
      </p>
    </section>
  );
}
