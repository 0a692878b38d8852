import type { AppRouter } from '@fleet/shared/api';
import { createTRPCClient, httpBatchLink } from '@trpc/client';

/**
 * The browser's client for the cloud API. It only ever talks to this app's own origin:
 * app/api/trpc/[trpc]/route.ts forwards to the cloud, so the cloud's address stays server-side.
 */
export const trpc = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: '/api/trpc' })],
});
