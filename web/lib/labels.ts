/**
 * Words for the API's codes. Every status is shown as text (never by colour alone), and the same
 * words are used on every page.
 */
export const VEHICLE_STATUS_LABELS = {
  moving: 'Moving',
  idle: 'Idling',
  parked: 'Parked',
  offline: 'Offline',
  no_data: 'No data yet',
} as const;
export type VehicleStatus = keyof typeof VEHICLE_STATUS_LABELS;

export const ALERT_STATUS_LABELS = {
  open: 'Open',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
} as const;
export type AlertStatus = keyof typeof ALERT_STATUS_LABELS;

export const ALERT_TYPE_LABELS: Record<string, string> = {
  fuel_drain: 'Fuel drain',
  fuel_leak: 'Fuel leak',
  engine_anomaly: 'Engine anomaly',
  dtc: 'Trouble code',
  battery: 'Battery',
  speeding: 'Speeding',
  long_idle: 'Long idle',
  geofence_enter: 'Entered geofence',
  geofence_exit: 'Left geofence',
};

export const EVENT_TYPE_LABELS: Record<string, string> = {
  refuel: 'Refuel',
  fuel_drain: 'Drain',
  fuel_leak: 'Leak',
  long_idle: 'Long idle',
  harsh_brake: 'Harsh braking',
  harsh_accel: 'Harsh acceleration',
  harsh_corner: 'Harsh cornering',
  speeding: 'Speeding',
  engine_anomaly: 'Engine anomaly',
  dtc: 'Trouble code',
  battery: 'Battery check',
  ignition_on: 'Ignition on',
  ignition_off: 'Ignition off',
  engine_scores: 'Engine scores',
};

interface Badge {
  text: string;
  className: string;
}

const SEVERITY_BADGES: Record<string, Badge> = {
  critical: { text: '‼ Critical', className: 'badge badge--danger' },
  major: { text: '‼ Major', className: 'badge badge--danger' },
  minor: { text: '! Minor', className: 'badge badge--warning' },
  warning: { text: '! Warning', className: 'badge badge--warning' },
  info: { text: 'i Info', className: 'badge badge--info' },
};

const ALERT_STATUS_BADGES: Record<AlertStatus, Badge> = {
  open: { text: '● Open', className: 'badge badge--danger' },
  acknowledged: { text: '◐ Acknowledged', className: 'badge badge--warning' },
  resolved: { text: '✓ Resolved', className: 'badge badge--ok' },
};

/** Severity as a word plus a symbol, and the badge class that reinforces it (unknown: info). */
export function severityBadge(severity: string): Badge {
  return SEVERITY_BADGES[severity] ?? SEVERITY_BADGES.info!;
}

/** An alert's status the same way (anything else reads as resolved). */
export function alertStatusBadge(status: string): Badge {
  return ALERT_STATUS_BADGES[status as AlertStatus] ?? ALERT_STATUS_BADGES.resolved;
}

/** Label for a code without a known word: "fuel_drain" -> "Fuel drain". */
export function humanize(code: string): string {
  const s = code.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
