import type { Permission, Role } from './permissions.ts';

/**
 * Who is calling: a signed-in user or an integration's API token, as the API sees them once the
 * token was looked up (auth-service.ts) or found in the session cache (session-cache.ts).
 */
export interface Session {
  userId: string;
  tenantId: string;
  email: string;
  name: string;
  /** 'token': an integration's API token, allowed exactly its `scopes`. */
  role: Role | 'token';
  /** Drivers: the vehicle they drive. */
  vehicleId: string | null;
  /** API tokens only: the permissions it was given. */
  scopes?: Permission[];
}
