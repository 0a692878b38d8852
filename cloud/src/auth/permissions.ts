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
  /** Users of the tenant: list, invite, change roles, deactivate, reset passwords. */
  'users:manage': ['admin'],
  /** GDPR export and erasure requests. */
  'gdpr:manage': ['admin', 'compliance'],
  /** Integration API tokens. */
  'tokens:manage': ['admin'],
  /**
   * One's own API tokens (scripts, spreadsheets): they act as their owner, never beyond the owner's
   * current role, and end with the account. Drivers use the PWA only.
   */
  'tokens:personal': ['admin', 'fleet_manager', 'finance', 'compliance', 'technician'],
  /** The vehicles' devices (MQTT logins) and the agents' health: who installs and looks after them. */
  'devices:read': ['admin', 'fleet_manager', 'technician'],
  /** Provision, rotate and revoke a device's credentials (audited; the broker follows at once). */
  'devices:manage': ['admin', 'fleet_manager', 'technician'],
  /** The alerts inbox and live alerts (faults matter to technicians too). */
  'alerts:read': ['admin', 'fleet_manager', 'technician'],
  /** Acknowledge and resolve alerts (audited). */
  'alerts:manage': ['admin', 'fleet_manager', 'technician'],
  /** Alert rules: write, delete, preview (who is woken at night: not technicians, not drivers). */
  'alerts:rules': ['admin', 'fleet_manager'],
  /** Geofences: draw, list, delete; they feed entry/exit alerts. */
  'geofences:manage': ['admin', 'fleet_manager'],
  /** Fuel-card transactions with their reconciliation, consumption per vehicle. */
  'fuel:read': ['admin', 'fleet_manager', 'finance', 'compliance'],
  /** The tenant's drivers, their vehicles and rankings. */
  'drivers:read': ['admin', 'fleet_manager'],
  /** A driver's efficiency score and badges (a driver: their own only). */
  'drivers:score': ['admin', 'fleet_manager', 'driver'],
  /**
   * The driver's home page in one read (driverHome.get): their own session, vehicle, score, refuels,
   * points and challenges, each part under its own procedure's permission as well. Drivers only.
   */
  'drivers:home': ['driver'],
  /** The drivers' leaderboard (a driver: their peer group, names hidden when the tenant says so). */
  'scores:leaderboard': ['admin', 'fleet_manager', 'driver'],
  /** Dispute one of one's own scored events (left out of the score while under review). */
  'scores:dispute': ['driver'],
  /** Decide disputes and set the tenant's scoring weights, minimum distance and peer groups (audited). */
  'scores:manage': ['admin', 'fleet_manager'],
  /** Full-text and faceted search across vehicles, drivers, alerts, fuel logs; saved searches. */
  'search:use': ['admin', 'fleet_manager'],
  /** The refuel log (a driver: for their own vehicle only). */
  'refuels:log': ['admin', 'fleet_manager', 'driver'],
  /** One's own notification channels, quiet hours and push subscriptions. */
  'notifications:own': ['admin', 'fleet_manager', 'finance', 'compliance', 'technician', 'driver'],
  /** The tenant's webhook endpoints, the dead-letter list and redelivery. */
  'notifications:manage': ['admin', 'fleet_manager'],
  /** The vehicle register (plate, VIN, tank, calibration, group, budget) and the groups, read only. */
  'vehicles:registry': ['admin', 'fleet_manager', 'technician'],
  /** Create, edit and retire vehicles; CSV import of vehicles (audited). */
  'vehicles:manage': ['admin', 'fleet_manager'],
  /** Create, rename and delete groups (depots, vehicle classes) (audited). */
  'groups:manage': ['admin', 'fleet_manager'],
  /** Drivers' groups, assignments to vehicles and their history; CSV import of drivers (audited). */
  'drivers:manage': ['admin', 'fleet_manager'],
  /** A driver checks in to one of their allowed vehicles (closes that vehicle's current assignment). */
  'vehicles:check-in': ['driver'],
  /** The IFTA return and the carbon report (what finance and compliance file). */
  'reports:read': ['admin', 'finance', 'compliance'],
  /** The report builder's cost, consumption, idling and driver reports, their exports, saved reports. */
  'reports:fleet': ['admin', 'fleet_manager', 'finance', 'compliance'],
  /** Set the monthly fuel budgets (fleet, group, cost centre, vehicle). */
  'reports:budgets': ['admin', 'fleet_manager', 'finance'],
  /** Service programs, the due list, work orders and their costs, defect reports (issue 18). */
  'maintenance:read': ['admin', 'fleet_manager', 'finance', 'technician'],
  /** Write service programs; open, assign, cost and close work orders. */
  'maintenance:write': ['admin', 'fleet_manager', 'technician'],
  /** File a pre-trip defect report (a driver: for their own vehicle only). */
  'maintenance:report': ['admin', 'fleet_manager', 'driver'],
  /** Challenges (issue 19): create, change before the start, cancel; every participant's standing. */
  'challenges:manage': ['admin', 'fleet_manager'],
  /** The challenges and their progress (a driver: their own standing and their team's). */
  'challenges:read': ['admin', 'fleet_manager', 'driver'],
  /** Points balance and history, badges held, the rewards catalogue (a driver: their own). */
  'points:read': ['admin', 'fleet_manager', 'driver'],
  /** The rewards catalogue and the redemption requests: approve or reject (audited). */
  'rewards:manage': ['admin', 'fleet_manager'],
  /** Ask for a reward with one's points (debited at once, refunded if rejected). */
  'rewards:redeem': ['driver'],
  /** A vehicle's health: codes with freeze frames, battery per start, monitor results (issue 18 §2). */
  'vehicles:health': ['admin', 'fleet_manager', 'technician'],
  /**
   * Report schedules: who gets which report e-mailed when, runs and run-now. The readers of the
   * reports only: a schedule mails the report, so scheduling must not reach further than reading.
   */
  'reports:schedule': ['admin', 'finance', 'compliance'],
  /** Tenant-wide settings (its time zone, in which schedules run and report periods are cut). */
  'tenant:settings': ['admin'],
  /** A vehicle's remote-command history and answers (the diagnostics page). */
  'commands:read': ['admin', 'fleet_manager', 'technician'],
  /** Signed remote commands that read or tune the vehicle: codes now, live PIDs, status, logs, poll rates, model rollback. */
  'commands:send': ['admin', 'fleet_manager', 'technician'],
  /** Clear the trouble codes remotely (service 04 also resets readiness monitors): technicians only. */
  'commands:clear': ['technician'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

export const PERMISSION_NAMES = Object.keys(PERMISSIONS) as Permission[];

/** A user by role; an API token by the permissions it was given (`scopes`). */
export function can(role: Role | 'token', permission: Permission, scopes?: readonly Permission[]): boolean {
  if (role === 'token') return scopes?.includes(permission) ?? false;
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
