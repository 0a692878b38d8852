import type { Metadata } from 'next';
import { SetPasswordForm } from '../invite/set-password-form.tsx';

export const metadata: Metadata = { title: 'Fleet — set a new password' };

export default function ResetPasswordPage() {
  return (
    <>
      <h1>Set a new password</h1>
      <SetPasswordForm purpose="reset" />
    </>
  );
}
