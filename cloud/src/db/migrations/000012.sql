-- Alert decisions move from PL/pgSQL (000010) to TypeScript (cloud/src/alerts), where the alert
-- rules, escalation and delivery that come next are written and read.
--
-- The ingest now decides in the transaction that stores the data: an event that needs attention
-- becomes one alert (alerts/event-alerts.ts), and the positions a group moves are tested against
-- the tenant's geofences (alerts/geofence.ts, alerts/geofence-watch.ts), which records entries
-- and exits in geofence_presence and alerts on each change. What keeps the data sound stays
-- here: UNIQUE (tenant_id, vehicle_id, event_id) on alerts (one alert per event, whatever
-- redelivers it), the foreign keys, the checks and row-level security.
DROP TRIGGER vehicle_events_alerts ON vehicle_events;
DROP FUNCTION alerts_from_vehicle_event();
DROP TRIGGER vehicle_latest_geofences_insert ON vehicle_latest;
DROP TRIGGER vehicle_latest_geofences_update ON vehicle_latest;
DROP FUNCTION vehicle_latest_geofences();
DROP FUNCTION geofence_contains(double precision[], double precision[], double precision, double precision);
