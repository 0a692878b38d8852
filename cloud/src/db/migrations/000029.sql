-- Predictive maintenance (issue 18 §2): the agent summarises its engine model's window scores per
-- day (count, mean, p95, max, each input's share of the error) as `engine_scores` events, recorded
-- like the others; the cloud adds a day's segments up and turns days high for the vehicle's own
-- history into "inspect" suggestions (maintenance/inspect-suggestions.ts). No new table.
ALTER TABLE vehicle_events DROP CONSTRAINT vehicle_events_type_check;
ALTER TABLE vehicle_events ADD CONSTRAINT vehicle_events_type_check
  CHECK (type IN ('refuel', 'fuel_drain', 'fuel_leak', 'long_idle', 'harsh_brake', 'harsh_accel',
                  'harsh_corner', 'speeding', 'engine_anomaly', 'dtc', 'battery', 'ignition_on',
                  'ignition_off', 'monitors', 'engine_scores'));
