-- The agent reports the vehicle's health without a technician's command (issue: alerts that reach
-- people, §3): trouble codes it reads on a schedule and at a MIL change (`dtc`, already allowed),
-- the 12 V battery at each engine start and while parked (`battery`), and the ignition switching
-- on and off. A low battery raises an alert (alerts/event-alerts.ts); ignition changes are
-- recorded only (rules for use outside working hours read them).
ALTER TABLE vehicle_events DROP CONSTRAINT vehicle_events_type_check;
ALTER TABLE vehicle_events ADD CONSTRAINT vehicle_events_type_check
  CHECK (type IN ('refuel', 'fuel_drain', 'fuel_leak', 'long_idle', 'harsh_brake', 'harsh_accel',
                  'harsh_corner', 'speeding', 'engine_anomaly', 'dtc', 'battery', 'ignition_on',
                  'ignition_off'));
ALTER TABLE alerts DROP CONSTRAINT alerts_type_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_type_check
  CHECK (type IN ('fuel_drain', 'fuel_leak', 'engine_anomaly', 'dtc', 'battery', 'speeding',
                  'long_idle', 'geofence_enter', 'geofence_exit'));
