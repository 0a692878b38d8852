import type { AppRouter } from '@fleet/cloud/api';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';

/**
 * The browser's client for the cloud API. It only ever talks to this app's own origin:
 * app/api/trpc/[trpc]/route.ts forwards to the cloud, so the cloud's address stays server-side.
 * Subscriptions (live positions and alerts) are Server-Sent Events through the same proxy
 * (an EventSource on /api/trpc: same origin, so connect-src 'self' covers it); everything else
 * is batched HTTP.
 */
export const trpc = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({ url: '/api/trpc' }),
      false: httpBatchLink({ url: '/api/trpc' }),
    }),
  ],
});
