-- The VIN each agent reads from its vehicle (service 09 PID 02, AgentHealth.vin), kept beside the
-- rest of its health so the register and the health panel can flag a vehicle whose agent reports
-- another VIN than the registered one (an adapter moved to another vehicle, or a register typo).
-- NULL: never reported (an agent before VINs, or a vehicle without 09 02). A report without a VIN
-- keeps the last one read: a vehicle that did not answer once has not changed its identity.
ALTER TABLE vehicle_agent_health ADD COLUMN reported_vin text;
