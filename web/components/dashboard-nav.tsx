'use client';

/**
 * The dashboard's navigation: its sections, plus the admin links the signed-in user's role is for.
 * Loaded only by the pages that show it (site-nav.tsx): the driver's phone page does not download
 * or run it (next/link, the dashboard's API client and the permission reads; Lighthouse mobile).
 */
import Link from 'next/link';
import { type ADMIN_SECTIONS, allowedTo, useMe } from '../lib/access.ts';
import { usePermissions } from '../lib/use-permissions.ts';

/** The manager's sections; the driver PWA (/driver) and the sign-in page have their own chrome. */
const SECTIONS = [
  { href: '/', label: 'Fleet' },
  { href: '/alerts', label: 'Alerts' },
  { href: '/fuel', label: 'Fuel' },
  { href: '/search', label: 'Search' },
  { href: '/geofences', label: 'Geofences' },
] as const;

/** Administration, each shown only to roles whose permission it needs (auth/permissions.ts). */
const REGISTER_LINKS = [
  { href: '/reports', label: 'Reports', permission: 'reports:fleet' },
  { href: '/alerts/rules', label: 'Alert rules', permission: 'alerts:read' },
  { href: '/maintenance', label: 'Maintenance', permission: 'maintenance:read' },
  { href: '/settings/notifications', label: 'Notifications', permission: 'notifications:own' },
  { href: '/settings/webhooks', label: 'Webhooks', permission: 'notifications:manage' },
  { href: '/admin/vehicles', label: 'Vehicles', permission: 'vehicles:registry' },
  { href: '/admin/groups', label: 'Groups', permission: 'vehicles:registry' },
  { href: '/admin/drivers', label: 'Drivers', permission: 'drivers:manage' },
  { href: '/leaderboard', label: 'Leaderboard', permission: 'scores:leaderboard' },
  { href: '/admin/import', label: 'Import', permission: 'vehicles:manage' },
  { href: '/challenges', label: 'Challenges', permission: 'challenges:manage' },
  { href: '/rewards', label: 'Rewards', permission: 'rewards:manage' },
] as const;

/** Shown only to the roles they are for (a driver sees none). */
const ADMIN_LINKS = [
  { href: '/admin/users', label: 'Users' },
  { href: '/admin/devices', label: 'Devices' },
  { href: '/tokens', label: 'API tokens' },
] as const satisfies readonly { href: keyof typeof ADMIN_SECTIONS; label: string }[];

function isCurrent(pathname: string, href: string): boolean {
  if (href === '/') return pathname === '/' || pathname.startsWith('/vehicles/');
  return pathname === href || pathname.startsWith(`${href}/`);
}

/** The dashboard's sections, plus the admin links the signed-in user's role is for. */
export function DashboardNav({ pathname }: { pathname: string }) {
  const role = useMe().data?.role;
  const permissions = usePermissions(true);
  const sections = [
    ...SECTIONS,
    ...REGISTER_LINKS.filter((s) => permissions?.has(s.permission)),
    ...ADMIN_LINKS.filter((l) => allowedTo(role, l.href)),
  ];
  // The most specific section is the current one (/alerts/rules: "Alert rules", not "Alerts").
  const here = sections
    .filter((x) => isCurrent(pathname, x.href))
    .sort((a, b) => b.href.length - a.href.length)[0]?.href;
  return (
    <nav aria-label="Dashboard" className="site-nav">
      <ul>
        {sections.map((s) => {
          const current = s.href === here;
          return (
            <li key={s.href}>
              {/* aria-current plus an underline: the current section is never shown by colour alone.
                  No prefetch: every section renders per request, and prefetching five of them
                  while this page loads costs a phone's main thread more than it saves a click. */}
              <Link href={s.href} prefetch={false} aria-current={current ? 'page' : undefined}>
                {s.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
