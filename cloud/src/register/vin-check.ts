/**
 * The registered VIN against the one the vehicle's agent reads from the ECU (service 09 PID 02,
 * AgentHealth.vin). A mismatch means the adapter sits in another vehicle than the register says
 * (moved between vehicles, or installed in the wrong one), or the register holds a typo: either
 * way the data filed under this vehicle may be another's, so the register and the health panel
 * flag it.
 */
export const VIN_STATUSES = ['match', 'mismatch', 'unregistered', 'unreported'] as const;
export type VinStatus = (typeof VIN_STATUSES)[number];

/**
 * `unreported` (no VIN from the agent yet) wins over `unregistered`: with nothing read there is
 * nothing to compare or to copy into the register. ECUs send upper case; some pad with spaces.
 */
export function vinStatus(registered: string | null, reported: string | null): VinStatus {
  const read = reported?.trim().toUpperCase() || null;
  if (!read) return 'unreported';
  if (!registered) return 'unregistered';
  return registered.toUpperCase() === read ? 'match' : 'mismatch';
}
