import type { Metadata } from 'next';
import { RewardsAdmin } from './rewards-admin.tsx';

export const metadata: Metadata = { title: 'Fleet — rewards' };

export default function Rewards() {
  return (
    <>
      <h1>Rewards</h1>
      <RewardsAdmin />
    </>
  );
}
