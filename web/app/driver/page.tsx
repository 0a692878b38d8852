import { preload } from 'react-dom';
import { HOME_READ_URL } from './driver-api.ts';
import { DriverHome } from './driver-home.tsx';

/**
 * No user data in this HTML: the service worker keeps a copy of it for offline reloads, and that
 * copy must be the same for every driver. Everything personal arrives through the API, the
 * heading too (it is in the user's language).
 *
 * The page's one read (driverHome.get, the same URL for everyone) is preloaded here, so the phone
 * fetches it while it still downloads the scripts, not after they ran; the page's own fetch of it
 * (same URL, CORS mode, same-origin credentials: `crossOrigin: 'anonymous'`) takes that answer.
 */
export default function DriverPage() {
  preload(HOME_READ_URL, { as: 'fetch', crossOrigin: 'anonymous' });
  return <DriverHome />;
}
