/**
 * The remote-diagnostics commands (shared AGENT_COMMANDS) on this agent's parts: the OBD poller
 * (codes read and cleared between two poll cycles, live PID streams, poll pacing), the store, the
 * broker link's counters, the engine models and the process's recent log lines. The command lane
 * (sync/command-lane.ts) has already checked the signature, vehicle, expiry and once-only rule
 * before any of these runs.
 */
import { recentLogs } from '@fleet/shared/log';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { ModelService } from '../models/model-service.ts';
import type { ObdPoller } from '../obd/obd-poller.ts';
import type { ObdSession } from '../obd/obd-session.ts';
import type { TroubleCode } from '../obd/services/dtc.ts';
import type { AgentDb } from '../store/agent-db.ts';
import type { BrokerLink } from '../sync/broker-link.ts';
import type { PidStreams } from './pid-stream.ts';

export interface RemoteCommandParts {
  obd: ObdPoller;
  db: AgentDb;
  link: BrokerLink;
  streams: PidStreams;
  models: ModelService | null;
}

const codeOf = (c: TroubleCode) => ({ code: c.code, kind: c.kind, ecu: c.ecu });

/** PID 01's MIL asked now, not the last poll's (that may be 5 s old, from before a clear). */
async function milNow(s: ObdSession): Promise<boolean | null> {
  const v = (await s.readPids([0x01])).find((r) => r.pid === 0x01)?.value;
  return typeof v === 'object' && typeof v.milOn === 'boolean' ? v.milOn : null;
}

export function registerRemoteCommands(parts: RemoteCommandParts): void {
  const { obd, db, link, streams, models } = parts;
  const lane = link.commands;
  const startedAt = Date.now();

  lane.handle('readDtcs', () =>
    obd.withSession(async (s) => {
      const stored = await s.readTroubleCodes('stored');
      const pending = await s.readTroubleCodes('pending');
      return {
        codes: [...stored.codes, ...pending.codes].map(codeOf),
        milOn: await milNow(s),
        readAt: Date.now(),
      };
    }),
  );

  // Service 04 is confirmed by the signed command itself (a technician confirmed twice in the
  // browser and gave a reason, both in the audit chain); the codes read before are what it cleared.
  lane.handle('clearDtcs', () =>
    obd.withSession(async (s) => {
      const before = await s.readTroubleCodes('stored');
      await s.clearTroubleCodes(true);
      const after = await s.readTroubleCodes('stored');
      return {
        cleared: before.codes.map((c) => c.code),
        remaining: after.codes.map(codeOf),
        milOn: await milNow(s),
      };
    }),
  );

  lane.handle('streamPids', (args, command) => streams.start(command.id, args.pids, args.seconds));
  lane.handle('stopStream', (args) => streams.stop(args.streamId));

  lane.handle('agentStatus', () => {
    const s = db.stats();
    return {
      uptimeMs: Date.now() - startedAt,
      obd: {
        state: obd.state,
        protocol: obd.protocol?.name ?? null,
        vin: obd.vin?.vin ?? null,
        ...obd.stats,
        ...obd.pollRates,
      },
      link: { connected: link.connected, ...link.stats },
      store: { unsent: s.unsent, lastSeq: s.lastSeq, events: s.events, fileBytes: s.fileBytes },
      commands: { ...lane.stats, refused: db.seenCommands.refusals(), remembered: db.seenCommands.size },
      streams: streams.active,
      modelVersion: models?.activeModelVersion() ?? null,
    };
  });

  lane.handle('fetchLogs', (args) => recentLogs(args.maxBytes));

  lane.handle('setPollRates', (args) => obd.setPollRates(args));

  lane.handle('rollbackModel', async () => {
    if (!models)
      throw new AgentError(
        AgentErrorCode.CommandUnavailable,
        'this agent runs no engine models (no --model-public-key)',
      );
    await models.rollback();
    return { active: models.activeModelVersion() };
  });
}
