import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { ServiceWorkerRegistration } from './service-worker-registration.tsx';
import './driver.css';

export const metadata: Metadata = {
  title: 'Fleet — my vehicle',
  description: 'Your vehicle’s fuel and range, your refuels and your driving score; works offline.',
  // app/manifest.ts; Next links it from every page, named here for the pages that matter.
  manifest: '/manifest.webmanifest',
  appleWebApp: { capable: true, title: 'Fleet driver', statusBarStyle: 'default' },
  icons: { icon: '/icons/icon-192.png', apple: '/icons/icon-192.png' },
};

/** The driver's pages: phone-first, installable, and served by the service worker when offline. */
export default function DriverLayout({ children }: { children: ReactNode }) {
  return (
    <div className="driver">
      <ServiceWorkerRegistration />
      {children}
    </div>
  );
}
