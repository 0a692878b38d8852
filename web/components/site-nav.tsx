'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
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

/** Pages with their own chrome: the driver PWA, and the pages for people not signed in. */
const NO_NAV = ['/driver', '/login', '/invite', '/reset-password'];

function isCurrent(pathname: string, href: string): boolean {
  if (href === '/') return pathname === '/' || pathname.startsWith('/vehicles/');
  return pathname === href || pathname.startsWith(`${href}/`);
}

export function SiteNav() {
  const pathname = usePathname() ?? '/';
  // Decided before anything is read: on the pages for people not signed in, asking auth.me would
  // answer UNAUTHORIZED, and useQuery's answer to that (go to /login) reloads /login for ever.
  if (NO_NAV.some((p) => pathname.startsWith(p))) return null;
  return <DashboardNav pathname={pathname} />;
}

/** The dashboard's sections, plus the admin links the signed-in user's role is for. */
function DashboardNav({ pathname }: { pathname: string }) {
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
