import type { Metadata } from 'next';
import Link from 'next/link';
import { AlertsInbox } from './alerts-inbox.tsx';

export const metadata: Metadata = { title: 'Fleet — alerts' };

export default function AlertsPage() {
  return (
    <>
      <h1>Alerts</h1>
      <p>
        <Link href="/alerts/rules" prefetch={false}>
          Alert rules
        </Link>
        : who hears of which alert, by e-mail, webhook or push.{' '}
        <Link href="/settings/notifications" prefetch={false}>
          Your notification settings
        </Link>
        .{' '}
        <Link href="/notifications/dead-letters" prefetch={false}>
          Undelivered notifications
        </Link>
        .
      </p>
      <AlertsInbox />
    </>
  );
}
