import type { Metadata } from 'next';
import { Leaderboard } from './leaderboard.tsx';

export const metadata: Metadata = { title: 'Fleet — leaderboard' };

export default function LeaderboardPage() {
  return (
    <>
      <h1>Driver leaderboard</h1>
      <p>
        Scores per distance over a rolling 4-week window, recomputed daily; a driver needs the tenant's
        minimum distance before they are ranked. Disputed events are left out while under review.
      </p>
      <Leaderboard />
    </>
  );
}
