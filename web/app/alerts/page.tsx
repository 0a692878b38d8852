import type { Metadata } from 'next';
import { AlertsInbox } from './alerts-inbox.tsx';

export const metadata: Metadata = { title: 'Fleet — alerts' };

export default function AlertsPage() {
  return (
    <>
      <h1>Alerts</h1>
      <AlertsInbox />
    </>
  );
}
