import type { Metadata } from 'next';
import { DeadLetters } from './dead-letters.tsx';

export const metadata: Metadata = { title: 'Fleet — undelivered notifications' };

export default function DeadLettersPage() {
  return (
    <>
      <h1>Undelivered notifications</h1>
      <p>
        Messages that could not be delivered and are no longer tried. Redeliver sends one again with its
        original key.
      </p>
      <DeadLetters />
    </>
  );
}
