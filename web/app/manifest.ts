import type { MetadataRoute } from 'next';
import { colors } from '../lib/theme.ts';

/**
 * The driver PWA's web app manifest (/manifest.webmanifest): installed from /driver, it opens
 * there full-screen, with the theme's header colour. Icons are drawn by web/scripts/draw-icons.ts.
 */
export default function manifest(): MetadataRoute.Manifest {
  return {
    id: '/driver',
    name: 'Fleet — driver',
    short_name: 'Fleet driver',
    description:
      'Your vehicle’s fuel and range, refuel reminders, your score and badges; log refuels offline.',
    start_url: '/driver',
    scope: '/driver',
    display: 'standalone',
    orientation: 'portrait',
    background_color: colors.bg,
    theme_color: colors.headerBg,
    lang: 'en',
    icons: [
      { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
      { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
      { src: '/icons/maskable-192.png', sizes: '192x192', type: 'image/png', purpose: 'maskable' },
      { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    ],
  };
}
