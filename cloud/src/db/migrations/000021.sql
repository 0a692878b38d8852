-- Reconciliation on arrival (issue 17 §1): a refuel a driver logs in the PWA is judged like a
-- card purchase, against the detected refuels and the card purchases. Its verdict has neither a
-- purchase nor (when no refuel was detected) an event, so it needs a key of its own.
--
--   refuel_logs ─┐
--   fuel_transactions ─┼─ cloud/src/fuel/reconcile.ts ─▶ fuel_reconciliations (transaction_id
--   vehicle_events ────┘   (on arrival + periodic sweep)       | event_id | refuel_log_id)
ALTER TABLE fuel_reconciliations
  ADD COLUMN refuel_log_id bigint REFERENCES refuel_logs (id) ON DELETE CASCADE;
ALTER TABLE fuel_reconciliations DROP CONSTRAINT fuel_reconciliations_check;
ALTER TABLE fuel_reconciliations
  ADD CONSTRAINT fuel_reconciliations_subject
  CHECK (transaction_id IS NOT NULL OR event_id IS NOT NULL OR refuel_log_id IS NOT NULL);
CREATE UNIQUE INDEX fuel_reconciliations_refuel_log ON fuel_reconciliations (refuel_log_id)
  WHERE refuel_log_id IS NOT NULL;
