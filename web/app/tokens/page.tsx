import type { Metadata } from 'next';
import { PersonalTokens } from './personal-tokens.tsx';

export const metadata: Metadata = { title: 'Fleet — your API tokens' };

export default function TokensPage() {
  return (
    <>
      <h1>Your API tokens</h1>
      <PersonalTokens />
    </>
  );
}
