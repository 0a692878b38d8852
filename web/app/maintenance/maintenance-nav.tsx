import Link from 'next/link';

/** The maintenance pages' own links (the site navigation has one entry for all of them). */
export function MaintenanceNav({ current }: { current: 'due' | 'programs' | 'work-orders' }) {
  const links = [
    ['due', '/maintenance', 'Due services'],
    ['programs', '/maintenance/programs', 'Programs'],
    ['work-orders', '/maintenance/work-orders', 'Work orders'],
  ] as const;
  return (
    <nav aria-label="Maintenance" className="site-nav">
      <ul>
        {links.map(([key, href, label]) => (
          <li key={key}>
            <Link href={href} prefetch={false} aria-current={key === current ? 'page' : undefined}>
              {label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** Words, not colours: every status reads the same to everyone. */
export const DUE_LABELS: Record<string, string> = { ok: 'OK', due_soon: 'Due soon', overdue: 'Overdue' };
export const STATUS_LABELS: Record<string, string> = {
  open: 'Open',
  in_progress: 'In progress',
  waiting_parts: 'Waiting for parts',
  done: 'Done',
  cancelled: 'Cancelled',
};
export const SOURCE_LABELS: Record<string, string> = {
  service: 'Due service',
  defect: 'Defect report',
  dtc: 'Trouble code',
  anomaly: 'Anomaly suggestion',
  manual: 'Manual',
};
