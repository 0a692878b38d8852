import type { Metadata } from 'next';
import { NotificationSettingsForm } from './settings-form.tsx';

export const metadata: Metadata = { title: 'Fleet — notification settings' };

export default function NotificationSettingsPage() {
  return (
    <>
      <h1>Notification settings</h1>
      <NotificationSettingsForm />
    </>
  );
}
