import type { Metadata } from 'next';
import { SetPasswordForm } from './set-password-form.tsx';

export const metadata: Metadata = { title: 'Fleet — accept your invitation' };

export default function InvitePage() {
  return (
    <>
      <h1>Welcome to Fleet</h1>
      <p>You were invited to your company’s fleet dashboard. Choose your password to sign in.</p>
      <SetPasswordForm purpose="invite" />
    </>
  );
}
