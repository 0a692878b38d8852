/**
 * The agent's SQLite schema as numbered migrations, applied in order, each in its own transaction,
 * and recorded in `PRAGMA user_version` (graphile-worker's rule: never edit a shipped migration,
 * add the next one).
 */
export const MIGRATIONS: readonly string[] = [
  // 1: raw samples and the sync cursor. AUTOINCREMENT: a seq is never reused, even after the
  // newest rows are deleted, because (vehicle, seq) is the cloud's idempotency key.
  `CREATE TABLE samples (
     seq            INTEGER PRIMARY KEY AUTOINCREMENT,
     ts             INTEGER NOT NULL,
     lat            REAL,
     lon            REAL,
     speed_kmh      REAL,
     rpm            REAL,
     fuel_level_pct REAL,
     coolant_c      REAL
   );
   CREATE TABLE sync_cursor (
     lane      TEXT PRIMARY KEY,
     acked_seq INTEGER NOT NULL
   );
   INSERT INTO sync_cursor (lane, acked_seq) VALUES ('telemetry', 0);`,

  // 2: store-and-forward. The samples table is the telemetry lane's outbox: a row above its lane's
  // cursor and outside an acked range is unsent.
  //  - sync_cursor gains the per-vehicle batch sequence (strictly increasing across restarts)
  //    and the time of the last PUBACK;
  //  - sync_acked_ranges: batches acknowledged above the cursor (live data acked while older
  //    backfill is still in flight); the cursor moves over them only when the range below is
  //    complete (contiguous acknowledgement);
  //  - rollups_minute: min/max/sum/count per field and minute, kept after raw rows are evicted;
  //  - events: detections, DTCs, trips, anything with a type, a start, an optional end and a
  //    JSON payload;
  //  - evictions: rows removed to stay inside the disk budget, by kind (reported to the cloud).
  `ALTER TABLE sync_cursor ADD COLUMN batch_seq INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE sync_cursor ADD COLUMN last_ack_at INTEGER;
   CREATE TABLE sync_acked_ranges (
     lane      TEXT    NOT NULL REFERENCES sync_cursor (lane),
     first_seq INTEGER NOT NULL,
     last_seq  INTEGER NOT NULL CHECK (last_seq >= first_seq),
     PRIMARY KEY (lane, first_seq)
   ) WITHOUT ROWID;
   CREATE TABLE link_state (
     id           INTEGER PRIMARY KEY CHECK (id = 1),
     connected    INTEGER NOT NULL,
     since        INTEGER NOT NULL,
     broker       TEXT
   );
   CREATE TABLE rollups_minute (
     minute_ts          INTEGER PRIMARY KEY,
     count              INTEGER NOT NULL,
     speed_kmh_min      REAL, speed_kmh_max      REAL, speed_kmh_sum      REAL NOT NULL, speed_kmh_n      INTEGER NOT NULL,
     rpm_min            REAL, rpm_max            REAL, rpm_sum            REAL NOT NULL, rpm_n            INTEGER NOT NULL,
     fuel_level_pct_min REAL, fuel_level_pct_max REAL, fuel_level_pct_sum REAL NOT NULL, fuel_level_pct_n INTEGER NOT NULL,
     coolant_c_min      REAL, coolant_c_max      REAL, coolant_c_sum      REAL NOT NULL, coolant_c_n      INTEGER NOT NULL
   );
   CREATE TABLE events (
     id       INTEGER PRIMARY KEY AUTOINCREMENT,
     type     TEXT    NOT NULL,
     start_ts INTEGER NOT NULL,
     end_ts   INTEGER CHECK (end_ts IS NULL OR end_ts >= start_ts),
     payload  TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(payload))
   );
   CREATE INDEX events_by_start ON events (start_ts);
   CREATE TABLE evictions (
     kind TEXT PRIMARY KEY,
     rows INTEGER NOT NULL DEFAULT 0
   );
   INSERT INTO evictions (kind) VALUES ('rawSynced'), ('rawUnsynced'), ('rollups'), ('events');
   -- Rollups for samples recorded before this migration.
   INSERT INTO rollups_minute
     SELECT ts - ts % 60000, count(*),
            min(speed_kmh), max(speed_kmh), coalesce(sum(speed_kmh), 0), count(speed_kmh),
            min(rpm), max(rpm), coalesce(sum(rpm), 0), count(rpm),
            min(fuel_level_pct), max(fuel_level_pct), coalesce(sum(fuel_level_pct), 0), count(fuel_level_pct),
            min(coolant_c), max(coolant_c), coalesce(sum(coolant_c), 0), count(coolant_c)
     FROM samples GROUP BY ts - ts % 60000;`,

  // 3: the events lane (sync/event-lane.ts): its own cursor (acked_seq = highest event id the
  // cloud committed) and batch counter, next to the telemetry lane's.
  `INSERT INTO sync_cursor (lane, acked_seq) VALUES ('events', 0);`,

  // 4: event ids start at a random point in [2^40, 2^40 + 2^48) in a database that has never
  // recorded an event. Why: the cloud keys events by (tenant, vehicle, event id); an agent whose
  // database is recreated (new SD card, reflash) would count from 1 again and every new event
  // would be dropped there as a duplicate of the old database's. Random rather than the clock: a
  // Pi has no real-time clock and may start at 1970 before its first GPS fix. Two databases of
  // one vehicle collide only if their ranges (a few million ids in a lifetime) overlap: about
  // 1 in 10^8. Still below 2^53, so every id stays exact in JSON.
  `INSERT INTO sqlite_sequence (name, seq)
     SELECT 'events', 1099511627776 + abs(random() % 281474976710656)
      WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events');`,

  // 5: the trouble codes the vehicle reported at the last read (store/trouble-codes.ts), so an
  // agent restarted while a code is still set does not report it again as new.
  `CREATE TABLE trouble_codes (
     code       TEXT    NOT NULL,
     kind       TEXT    NOT NULL CHECK (kind IN ('stored', 'pending', 'permanent')),
     ecu        TEXT    NOT NULL,
     first_seen INTEGER NOT NULL,
     PRIMARY KEY (code, kind)
   ) WITHOUT ROWID;`,

  // 6: distance you can file (issue 17): the odometer (PID A6, km) where the vehicle has one, and
  // the GPS odometer (jitter-filtered metres since this store was created; gps-odometer.ts
  // continues from the newest row after a restart).
  `ALTER TABLE samples ADD COLUMN odometer_km REAL;
   ALTER TABLE samples ADD COLUMN gps_distance_m REAL;`,

  // 7: remote commands (edge-agent/src/commands/seen-commands.ts). Each signed command id and
  // nonce the agent has accepted, until a while after its expiry: a command redelivered by the
  // broker, resent by the cloud or replayed by someone runs at most once, across reconnects and
  // restarts. Refusals (forged, expired, replayed, other vehicle) counted by reason for the health
  // report.
  // Two b-trees only (WITHOUT ROWID, no secondary index): schema pages count against the disk
  // budget, and the table holds a few hours of commands (a nonce is found by a scan).
  `CREATE TABLE seen_commands (
     id         TEXT    PRIMARY KEY,
     nonce      TEXT    NOT NULL,
     name       TEXT    NOT NULL,
     expires_at INTEGER NOT NULL,
     seen_at    INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE command_refusals (
     refusal TEXT    PRIMARY KEY,
     n       INTEGER NOT NULL DEFAULT 0
   ) WITHOUT ROWID;`,
];
