import { formatCount } from '../../../lib/format.ts';
import type { QueuedRefuel } from '../../../lib/offline/queue.ts';
import type { Me } from '../use-driver-home.ts';

/** Who is signed in, and signing out (which warns about refuels still waiting on the phone). */
export function SignOutLine({
  me,
  outbox,
  onSignOut,
}: {
  me: Me;
  outbox: QueuedRefuel[] | null;
  onSignOut: () => Promise<void>;
}) {
  const waiting = (outbox ?? []).filter((e) => e.rejected === null).length;
  return (
    <p className="sign-out">
      Signed in as {me.name}.{' '}
      <button type="button" onClick={() => void onSignOut()}>
        Sign out
      </button>
      {waiting > 0 ? (
        <span className="hint">
          {' '}
          {formatCount(waiting, 'refuel')} not yet sent stay on this phone until you sign in again.
        </span>
      ) : null}
    </p>
  );
}
