import type { Metadata, Viewport } from 'next';
import { headers } from 'next/headers';
import type { ReactNode } from 'react';
import { SiteNav } from '../components/site-nav.tsx';
import { themeCss } from '../lib/theme.ts';
import './globals.css';

export const metadata: Metadata = {
  title: 'Fleet — dashboard',
  description: 'Live state of every vehicle in the fleet.',
};

export const viewport: Viewport = {
  themeColor: '#0b2540',
};

/**
 * Async and reading headers(): every page renders per request, so Next can put the proxy's CSP
 * nonce (web/proxy.ts) on its inline scripts.
 */
export default async function RootLayout({ children }: { children: ReactNode }) {
  const nonce = (await headers()).get('x-nonce') ?? undefined;
  return (
    <html lang="en">
      <head>
        {/* The theme tokens (web/lib/theme.ts) as CSS custom properties; nonce'd for the strict CSP. */}
        <style nonce={nonce}>{themeCss()}</style>
      </head>
      <body>
        <a className="skip-link" href="#main">
          Skip to main content
        </a>
        <header className="site-header">
          <p className="site-name">Fleet</p>
          <SiteNav />
        </header>
        {/* tabIndex -1: the skip link moves keyboard focus here, not just the scroll position. */}
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </body>
    </html>
  );
}
