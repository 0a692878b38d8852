'use client';
/**
 * The signed-in user's channels and quiet hours (notifications.settings / updateSettings), and
 * this browser's push subscription. Every field has a label; a refused value is named next to its
 * field (aria-invalid + aria-describedby) and summarised in an alert.
 */
import { TRPCClientError } from '@trpc/client';
import { type FormEvent, useEffect, useState } from 'react';
import { PageMessages } from '../../../components/page-messages.tsx';
import { trpc } from '../../../lib/trpc.ts';

type Channel = 'email' | 'push' | 'sms';
type Fields = Partial<
  Record<'email' | 'phone' | 'channels' | 'quietStart' | 'quietEnd' | 'timeZone' | 'endpoint', string>
>;

function fieldErrors(err: unknown): Fields {
  if (!(err instanceof TRPCClientError)) return {};
  const f = (err.data as { zodError?: { fieldErrors?: Record<string, string[]> } } | undefined)?.zodError
    ?.fieldErrors;
  return Object.fromEntries(Object.entries(f ?? {}).map(([k, v]) => [k, v[0] ?? 'is not valid']));
}

function Field(props: {
  id: keyof Fields;
  label: string;
  hint?: string;
  value: string;
  onChange: (v: string) => void;
  error: string | undefined;
  type?: string;
  autoComplete?: string;
}) {
  const described = [props.hint ? `${props.id}-hint` : '', props.error ? `${props.id}-error` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div className="form-field">
      <label htmlFor={`ns-${props.id}`}>{props.label}</label>
      {props.hint && <p id={`${props.id}-hint`}>{props.hint}</p>}
      <input
        id={`ns-${props.id}`}
        type={props.type ?? 'text'}
        value={props.value}
        autoComplete={props.autoComplete}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={described || undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
      {props.error && (
        <p id={`${props.id}-error`} className="error-text">
          {props.error}
        </p>
      )}
    </div>
  );
}

export function NotificationSettingsForm() {
  const [email, setEmail] = useState('');
  const [accountEmail, setAccountEmail] = useState('');
  const [phone, setPhone] = useState('');
  const [channels, setChannels] = useState<Channel[]>(['email', 'push']);
  const [quietStart, setQuietStart] = useState('');
  const [quietEnd, setQuietEnd] = useState('');
  const [timeZone, setTimeZone] = useState('UTC');
  const [errors, setErrors] = useState<Fields>({});
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    trpc.notifications.settings
      .query()
      .then((s) => {
        setAccountEmail(s.accountEmail);
        setEmail(s.email ?? '');
        setPhone(s.phone ?? '');
        setChannels(s.channels as Channel[]);
        setQuietStart(s.quietStart ?? '');
        setQuietEnd(s.quietEnd ?? '');
        setTimeZone(s.timeZone);
      })
      .catch((err: Error) => setFailure(err.message));
  }, []);

  const toggle = (c: Channel) =>
    setChannels((cs) => (cs.includes(c) ? cs.filter((x) => x !== c) : [...cs, c]));

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setMessage(null);
    setFailure(null);
    try {
      await trpc.notifications.updateSettings.mutate({
        email: email.trim() || null,
        phone: phone.trim() || null,
        channels,
        quietStart: quietStart || null,
        quietEnd: quietEnd || null,
        timeZone: timeZone.trim(),
      });
      setErrors({});
      setMessage('Saved.');
    } catch (err) {
      const f = fieldErrors(err);
      setErrors(f);
      setFailure(
        Object.keys(f).length > 0
          ? `${Object.keys(f).length} field(s) need a change.`
          : (err as Error).message,
      );
    }
  };

  const subscribe = async () => {
    setMessage(null);
    setFailure(null);
    try {
      const { publicKey } = await trpc.notifications.pushKey.query();
      if (!publicKey) throw new Error('Push notifications are not configured on this server.');
      if (!('serviceWorker' in navigator) || !('PushManager' in window))
        throw new Error('This browser cannot show push notifications.');
      // The dashboard's push-only worker (the driver app has its own at /driver).
      const reg = await navigator.serviceWorker.register('/push-sw.js', { scope: '/' });
      await navigator.serviceWorker.ready;
      const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: publicKey });
      const json = sub.toJSON() as { endpoint: string; keys: { p256dh: string; auth: string } };
      await trpc.notifications.subscribePush.mutate({ endpoint: json.endpoint, keys: json.keys });
      setMessage('This browser will show alert notifications.');
    } catch (err) {
      setFailure((err as Error).message);
    }
  };

  return (
    <>
      <PageMessages message={message} error={failure} />
      <form onSubmit={save} noValidate aria-labelledby="channels-heading">
        <h2 id="channels-heading">Where alerts reach you</h2>
        <fieldset>
          <legend>Channels</legend>
          {(
            [
              ['email', 'E-mail'],
              ['push', 'Push notifications in this app'],
              ['sms', 'Text messages (SMS)'],
            ] as const
          ).map(([c, label]) => (
            <div key={c}>
              <input
                id={`ns-ch-${c}`}
                type="checkbox"
                checked={channels.includes(c)}
                onChange={() => toggle(c)}
              />
              <label htmlFor={`ns-ch-${c}`}>{label}</label>
            </div>
          ))}
        </fieldset>
        <Field
          id="email"
          label="E-mail address for alerts"
          hint={accountEmail ? `Empty: your account address, ${accountEmail}.` : undefined}
          type="email"
          autoComplete="email"
          value={email}
          onChange={setEmail}
          error={errors.email}
        />
        <Field
          id="phone"
          label="Phone number for text messages"
          hint="In international form, e.g. +4915112345678."
          type="tel"
          autoComplete="tel"
          value={phone}
          onChange={setPhone}
          error={errors.phone}
        />
        <fieldset>
          <legend>
            Quiet hours (only critical alerts come through; the rest arrive as one summary after)
          </legend>
          <Field
            id="quietStart"
            label="From (HH:MM)"
            value={quietStart}
            onChange={setQuietStart}
            error={errors.quietStart}
          />
          <Field
            id="quietEnd"
            label="Until (HH:MM)"
            value={quietEnd}
            onChange={setQuietEnd}
            error={errors.quietEnd}
          />
          <Field
            id="timeZone"
            label="Your time zone"
            hint="For example Europe/Berlin."
            value={timeZone}
            onChange={setTimeZone}
            error={errors.timeZone}
          />
        </fieldset>
        <button type="submit">Save settings</button>
      </form>
      <section aria-labelledby="push-heading">
        <h2 id="push-heading">This browser</h2>
        <button type="button" onClick={subscribe}>
          Show alert notifications in this browser
        </button>
      </section>
    </>
  );
}
