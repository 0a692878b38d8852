-- Vehicle health (issue 18 §2): the agent reports service 06 on-board monitor results (misfire
-- counts per cylinder, catalyst tests against their limits) as `monitors` events, recorded like
-- the others; a misfiring cylinder raises an alert from them (alerts/vehicle-health-alerts.ts).
-- Freeze frames, PIDs 21/31 and the cranking dip ride in the details of the existing `dtc` and
-- `battery` events: no new table.
ALTER TABLE vehicle_events DROP CONSTRAINT vehicle_events_type_check;
ALTER TABLE vehicle_events ADD CONSTRAINT vehicle_events_type_check
  CHECK (type IN ('refuel', 'fuel_drain', 'fuel_leak', 'long_idle', 'harsh_brake', 'harsh_accel',
                  'harsh_corner', 'speeding', 'engine_anomaly', 'dtc', 'battery', 'ignition_on',
                  'ignition_off', 'monitors'));
