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
  /** Users of the tenant. */
  'users:read': ['admin'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
