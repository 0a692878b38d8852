/**
 * The command lane's checks and the once-only store on a real SQLite file (AgentDb), with the
 * broker replaced by a recorder of what the lane publishes (the broker itself is exercised in
 * test/integration/remote-commands.test.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AgentCommandResult } from '@fleet/shared';
import { signCommand } from '@fleet/shared/command-sign';
import { createLogger } from '@fleet/shared/log';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentDb } from '../store/agent-db.ts';
import { CommandLane } from '../sync/command-lane.ts';
import type { LinkPort } from '../sync/lane.ts';
import { SEEN_GRACE_MS } from './seen-commands.ts';

const cloud = generateKeyPairSync('ed25519');
const intruder = generateKeyPairSync('ed25519');
const dir = mkdtempSync(path.join(tmpdir(), 'agent-cmds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger('test').child({}, { level: 'silent' });
const clock = Date.UTC(2026, 11, 7, 9, 0, 0);

/** One agent "process": its store on `file`, a lane, and the answers it published. */
function agent(file: string) {
  const db = new AgentDb(file);
  const answers: AgentCommandResult[] = [];
  const link: LinkPort = {
    connected: true,
    protocolVersion: 5,
    publish: async (_kind, payload) => {
      answers.push(JSON.parse(String(payload)) as AgentCommandResult);
    },
  };
  const lane = new CommandLane(link, log, {
    tenantId: 'acme',
    vehicleId: 'VAN-1',
    publicKey: cloud.publicKey,
    seen: db.seenCommands,
    now: () => clock,
  });
  let runs = 0;
  lane.handle('agentStatus', () => {
    runs++;
    return { runs };
  });
  const send = async (cmd: unknown) => {
    const before = answers.length;
    lane.message('commands', Buffer.from(JSON.stringify(cmd)));
    while (answers.length === before) await new Promise((r) => setTimeout(r, 1));
    return answers[answers.length - 1]!;
  };
  return { db, lane, send, runs: () => runs };
}

const command = (over: Partial<Parameters<typeof signCommand>[0]> = {}, key = cloud.privateKey) =>
  signCommand(
    {
      id: `c-${Math.random().toString(36).slice(2)}`,
      name: 'agentStatus',
      tenantId: 'acme',
      vehicleId: 'VAN-1',
      issuedAt: clock,
      expiresAt: clock + 60_000,
      ...over,
    },
    key,
  );

describe('the command lane', () => {
  it('runs a signed command once, refuses and counts forged, expired, other-vehicle and replayed ones', async () => {
    const a = agent(path.join(dir, 'a.db'));
    const good = command();
    expect(await a.send(good)).toMatchObject({ id: good.id, status: 'ok', result: { runs: 1 } });
    expect(await a.send(good)).toMatchObject({ status: 'refused', refusal: 'replayed' });
    // Same nonce under a new id: a replay too (the nonce is in the signed text).
    expect(await a.send(command({ nonce: good.nonce! }))).toMatchObject({ refusal: 'replayed' });
    expect(await a.send(command({}, intruder.privateKey))).toMatchObject({ refusal: 'forged' });
    expect(await a.send({ ...command(), expiresAt: clock + 3_600_000 })).toMatchObject({ refusal: 'forged' });
    expect(await a.send(command({ expiresAt: clock - 1 }))).toMatchObject({ refusal: 'expired' });
    expect(await a.send(command({ vehicleId: 'VAN-2' }))).toMatchObject({ refusal: 'other-vehicle' });
    const { signature: _s, ...unsigned } = command();
    expect(await a.send(unsigned)).toMatchObject({ refusal: 'unsigned' });
    expect(a.runs()).toBe(1);
    expect(a.db.seenCommands.refusals()).toEqual({
      unsigned: 1,
      forged: 2,
      expired: 1,
      replayed: 2,
      'other-vehicle': 1,
    });
    expect(a.lane.stats).toMatchObject({ ran: 1, refused: 7 });
    a.db.close();
  });

  it('remembers run ids and the counts across a restart; prunes them after expiry plus grace', async () => {
    const file = path.join(dir, 'b.db');
    const first = agent(file);
    const cmd = command();
    expect(await first.send(cmd)).toMatchObject({ status: 'ok' });
    first.db.close();
    const second = agent(file);
    expect(await second.send(cmd)).toMatchObject({ status: 'refused', refusal: 'replayed' });
    expect(second.runs()).toBe(0);
    expect(second.db.seenCommands.refusals().replayed).toBe(1);
    expect(second.db.seenCommands.prune(clock)).toBe(0);
    expect(second.db.seenCommands.prune(cmd.expiresAt! + SEEN_GRACE_MS + 1)).toBe(1);
    expect(second.db.seenCommands.has(cmd.id)).toBe(false);
    second.db.close();
  });

  it('answers an unsigned ping, and nothing else unsigned, on an agent without a command key', async () => {
    const db = new AgentDb(path.join(dir, 'c.db'));
    const answers: AgentCommandResult[] = [];
    const lane = new CommandLane(
      {
        connected: true,
        protocolVersion: 5,
        publish: async (_k, p) => void answers.push(JSON.parse(String(p))),
      },
      log,
      { tenantId: 'acme', vehicleId: 'VAN-1', publicKey: null, seen: db.seenCommands },
    );
    lane.handle('agentStatus', () => ({}));
    lane.message('commands', Buffer.from(JSON.stringify({ v: 1, id: 'p', name: 'ping' })));
    lane.message('commands', Buffer.from(JSON.stringify(command())));
    while (answers.length < 2) await new Promise((r) => setTimeout(r, 1));
    expect(answers.find((x) => x.id === 'p')).toMatchObject({ status: 'ok', result: { pong: true } });
    expect(answers.find((x) => x.id !== 'p')).toMatchObject({ status: 'refused', refusal: 'unsigned' });
    db.close();
  });
});
