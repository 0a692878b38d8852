import type { QueuedRefuel } from '../../../lib/offline/queue.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';
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
  const { t } = useDriverText();
  const waiting = (outbox ?? []).filter((e) => e.rejected === null).length;
  return (
    <p className="sign-out">
      {t('signOut.signedInAs', { name: me.name })}{' '}
      <button type="button" onClick={() => void onSignOut()}>
        {t('signOut.button')}
      </button>
      {waiting > 0 ? <span className="hint"> {t('signOut.waiting', { n: waiting })}</span> : null}
    </p>
  );
}
