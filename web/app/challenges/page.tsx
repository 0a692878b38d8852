import type { Metadata } from 'next';
import { ChallengesPage } from './challenges-page.tsx';

export const metadata: Metadata = { title: 'Fleet — challenges' };

export default function Challenges() {
  return (
    <>
      <h1>Challenges</h1>
      <ChallengesPage />
    </>
  );
}
