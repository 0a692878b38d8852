import { useDriverText } from '../i18n/driver-text-context.tsx';
import type { Me } from '../use-driver-home.ts';

/**
 * The top of the page: the connection in words and a symbol, the screen reader's announcements
 * (a polite live region, always present so a change is read), and why data is missing.
 */
export function StatusLines({
  online,
  announcement,
  problem,
  me,
}: {
  online: boolean;
  announcement: string;
  problem: string | null;
  me: Me | null;
}) {
  const { t } = useDriverText();
  return (
    <>
      <p className={`connection ${online ? 'connection--online' : 'connection--offline'}`} role="status">
        <span aria-hidden="true">{online ? '●' : '○'}</span>{' '}
        {online ? t('status.online') : t('status.offline')}
      </p>
      <p className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {announcement}
      </p>
      {problem ? (
        <p className="driver-problem" role="alert">
          {problem}
        </p>
      ) : null}
      {me && (me.role !== 'driver' || !me.vehicleId) ? (
        <p className="driver-problem">
          {t('status.notDriver')} <a href="/">{t('status.openDashboard')}</a>.
        </p>
      ) : null}
    </>
  );
}
