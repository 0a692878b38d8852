/**
 * `fleet-cloud vehicle cmd` against a real PostgreSQL: it signs, stores and audits a command the
 * running cloud then delivers (that delivery, and the vehicle's answer, are shown end to end in
 * test/integration/remote-commands.test.ts); bad input is one clear line and exit status 2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkCommand } from '@fleet/shared/command-sign';
import { createLogger } from '@fleet/shared/log';
import { readEd25519Key } from '@fleet/shared/model-verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../src/cli/main.ts';
import { migrate } from '../src/db/migrate.ts';
import { runCli } from './support/cli.ts';
import { openTestPool, requireServices } from './support/services.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fleet-cmd-cli-'));
const key = path.join(dir, 'command-key.pem');
const pub = path.join(dir, 'command-key.pub.pem');
let db: Awaited<ReturnType<typeof openTestPool>>;

const cli = (...args: string[]) => runCli(db.schema, ...args);

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_cmd_cli');
  await migrate(db.pool, createLogger('cmd-cli-test').child({}, { level: 'error' }));
  await db.pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme')`);
  await db.pool.query(`INSERT INTO vehicles (id, tenant_id) VALUES ('VAN-1', 'acme')`);
  const made = await cli('vehicle', 'command-keygen', '--private-key', key, '--public-key', pub, '--json');
  expect(JSON.parse(made.out[0]!)).toMatchObject({ privateKeyFile: key, publicKeyFile: pub });
});

afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('fleet-cloud vehicle cmd', () => {
  it('stores a signed, audited command for the vehicle (pending until the cloud delivers it)', async () => {
    const r = await cli(
      'vehicle',
      'cmd',
      'VAN-1',
      'clearDtcs',
      '--tenant',
      'acme',
      '--key',
      key,
      '--reason',
      'new O2 sensor',
      '--json',
    );
    expect(r.code).toBe(0);
    const view = JSON.parse(r.out[0]!) as { id: string; status: string; reason: string; sends: number };
    expect(view).toMatchObject({ status: 'pending', reason: 'new O2 sensor', sends: 0 });
    const { rows } = await db.pool.query<{ payload: Record<string, unknown> }>(
      'SELECT payload FROM vehicle_commands WHERE id = $1',
      [view.id],
    );
    const publicKey = readEd25519Key(pub, 'public');
    if (!publicKey.ok) throw new Error(publicKey.reason);
    expect(
      checkCommand(rows[0]!.payload, {
        publicKey: publicKey.key,
        tenantId: 'acme',
        vehicleId: 'VAN-1',
        now: Date.now(),
      }),
    ).toEqual({ ok: true });
    const audit = await db.pool.query<{ action: string; actor: string }>(
      'SELECT action, actor FROM audit_log WHERE entity = $1',
      [`command:${view.id}`],
    );
    expect(audit.rows).toEqual([{ action: 'vehicle.command', actor: expect.stringMatching(/^cli:/) }]);
  });

  it('refuses an unknown command, bad args, a clear without reason, an unknown vehicle, a missing key: exit 2, one line', async () => {
    const cases: [string[], RegExp][] = [
      [['VAN-1', 'selfDestruct'], /^E702: no command "selfDestruct"/],
      [['VAN-1', 'setPollRates', '--args', '{"cycleDelayMs":-1}'], /^E702: setPollRates:/],
      [['VAN-1', 'setPollRates', '--args', 'nope'], /^E702: --args is not JSON/],
      [['VAN-1', 'clearDtcs'], /^E702: clearDtcs:/],
      [['VAN-9', 'readDtcs'], /^E703: no vehicle VAN-9/],
    ];
    for (const [args, message] of cases) {
      const r = await cli('vehicle', 'cmd', ...args, '--tenant', 'acme', '--key', key);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toEqual([expect.stringMatching(message)]);
    }
    const noKey = await cli(
      'vehicle',
      'cmd',
      'VAN-1',
      'readDtcs',
      '--tenant',
      'acme',
      '--key',
      path.join(dir, 'missing.pem'),
    );
    expect(noKey.err).toEqual([expect.stringMatching(/^E700: command signing key: cannot read/)]);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM vehicle_commands');
    expect(rows[0].n).toBe(1);
  });

  it('--help names the commands, the exit statuses and an example', () => {
    const cmd = buildCli({ out: () => {}, err: () => {} })
      .commands.find((c) => c.name() === 'vehicle')!
      .commands.find((c) => c.name() === 'cmd')!;
    let help = '';
    cmd.configureOutput({ writeOut: (s) => (help += s) }).outputHelp();
    help = help.replace(/\s+/g, ' '); // commander wraps long lines    expect(help).toContain('readDtcs, clearDtcs, streamPids');
    expect(help).toContain('Exit status: 0 answered ok');
    expect(help).toContain('--reason "O2 sensor replaced" --wait');
  });
});
