/**
 * The tRPC router type: the contract between the cloud API and the web app. Type-only, so the
 * web bundle never pulls server code; the router itself lives in cloud/src/api.
 */
export type { AppRouter } from '../../cloud/src/api/root.ts';
