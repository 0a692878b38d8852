'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
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
const ADMIN_SECTIONS = [
  { href: '/admin/vehicles', label: 'Vehicles', permission: 'vehicles:registry' },
  { href: '/admin/groups', label: 'Groups', permission: 'vehicles:registry' },
  { href: '/admin/drivers', label: 'Drivers', permission: 'drivers:manage' },
  { href: '/admin/import', label: 'Import', permission: 'vehicles:manage' },
] as const;

function isCurrent(pathname: string, href: string): boolean {
  if (href === '/') return pathname === '/' || pathname.startsWith('/vehicles/');
  return pathname === href || pathname.startsWith(`${href}/`);
}

export function SiteNav() {
  const pathname = usePathname() ?? '/';
  const hidden = pathname.startsWith('/driver') || pathname.startsWith('/login');
  const permissions = usePermissions(!hidden);
  if (hidden) return null;
  const sections = [...SECTIONS, ...ADMIN_SECTIONS.filter((s) => permissions?.has(s.permission))];
  return (
    <nav aria-label="Dashboard" className="site-nav">
      <ul>
        {sections.map((s) => {
          const current = isCurrent(pathname, s.href);
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
