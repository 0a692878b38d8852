import { DriverHome } from './driver-home.tsx';

/**
 * No user data in this HTML: the service worker keeps a copy of it for offline reloads, and that
 * copy must be the same for every driver. Everything personal arrives through the API, the
 * heading too (it is in the user's language).
 */
export default function DriverPage() {
  return <DriverHome />;
}
