/**
 * Who may do what (product.md's users). Every tRPC procedure that needs a signed-in user names
 * one permission in its meta; the middleware checks it against this table. Tenant scoping is not
 * here: it is row-level security in the database, under every procedure alike.
 */
export const ROLES = ['admin', 'fleet_manager', 'finance', 'compliance', 'technician', 'driver'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  /** Vehicles and their latest state (a driver: their own vehicle only). */
  'vehicles:read': ['admin', 'fleet_manager', 'finance', 'compliance', 'technician', 'driver'],
  /** The tenant's audit trail. */
  'audit:read': ['admin', 'compliance'],
  /** Users of the tenant: list, reset passwords, GDPR export and erasure of a driver. */
  'users:manage': ['admin'],
  /** GDPR export and erasure requests. */
  'gdpr:manage': ['admin', 'compliance'],
  /** Integration API tokens. */
  'tokens:manage': ['admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

/** A user by role; an API token by the permissions it was given (`scopes`). */
export function can(role: Role | 'token', permission: Permission, scopes?: readonly Permission[]): boolean {
  if (role === 'token') return scopes?.includes(permission) ?? false;
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
