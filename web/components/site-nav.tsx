'use client';

import dynamic from 'next/dynamic';
import { usePathname } from 'next/navigation';

/**
 * The dashboard's navigation (dashboard-nav.tsx) in a chunk of its own, rendered on the server with
 * the page and loaded by the pages that show it; the pages with their own chrome below never load it.
 */
const DashboardNav = dynamic(() => import('./dashboard-nav.tsx').then((m) => m.DashboardNav));

/** Pages with their own chrome: the driver PWA, and the pages for people not signed in. */
const NO_NAV = ['/driver', '/login', '/invite', '/reset-password'];

export function SiteNav() {
  const pathname = usePathname() ?? '/';
  // Decided before anything is read: on the pages for people not signed in, asking auth.me would
  // answer UNAUTHORIZED, and useQuery's answer to that (go to /login) reloads /login for ever.
  if (NO_NAV.some((p) => pathname.startsWith(p))) return null;
  return <DashboardNav pathname={pathname} />;
}
