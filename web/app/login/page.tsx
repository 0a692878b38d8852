import type { Metadata } from 'next';
import { LoginForm } from './login-form.tsx';

export const metadata: Metadata = { title: 'Fleet — sign in' };

export default function LoginPage() {
  return (
    <>
      <h1>Sign in</h1>
      <LoginForm />
    </>
  );
}
