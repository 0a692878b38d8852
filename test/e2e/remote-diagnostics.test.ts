/**
 * Issue 18 must-show 1 and 6 in the browser, and axe on the diagnostics page: a trouble code set
 * in firmware-sim mid-drive shows on the vehicle's diagnostics page; a technician clears it there
 * (reason, then "Yes": confirmed twice) as a signed command through the real agent; the
 * simulator's MIL goes off and the audit chain holds the command and its result. Live PIDs stream
 * into the page at the vehicle's poll rate and stop on the agent when the page closes.
 * Real PostgreSQL and Mosquitto, the real agent on firmware-sim over a socat pty. Everything
 * without a browser (refusals, offline, expiry, restarts) is in test/integration/remote-commands.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../cloud/src/auth/auth-service.ts';
import { verifyAuditChain } from '../../cloud/src/db/queries/audit-log.ts';
import { expectNoAxeViolations } from './support/axe.ts';
import { waitUntil } from './support/services.ts';
import { hydrated, type StackSession, startStackSession } from './support/stack-session.ts';

const PASSWORD = 'a-long-technician-password';
let session: StackSession;
let email: string;
const scenario = path.join(os.tmpdir(), `remote-diag-${process.pid}.json`);

const truth = () =>
  readFileSync(session.stack.vehicles[0]!.truthFile, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { milOn: boolean });

beforeAll(async () => {
  // At 50 ms a simulated second, the code is set about 3 s (wall) into the drive.
  writeFileSync(
    scenario,
    JSON.stringify({ name: 'lean', events: [{ type: 'dtc', at: '60s', code: 'P0171' }] }),
  );
  session = await startStackSession({
    name: 'remote-diag',
    services: 'real',
    stack: { epochs: 4000, tickMs: 50, transport: 'pty', scenarios: [scenario] },
  });
  email = `tech-${session.run}@fleet.test`;
  await createUser(session.db, {
    tenantId: session.tenantId,
    email,
    name: 'Tess Technician',
    role: 'technician',
    password: PASSWORD,
  });
}, 120_000);

afterAll(async () => {
  await session?.stop();
});

describe('remote diagnostics in the browser', () => {
  it('a code set mid-drive is cleared by a technician from the page; MIL off; audit holds command and result; live PIDs stop when the page closes', async () => {
    const vehicle = session.stack.vehicles[0]!.id;
    const { context, page } = await session.signIn(email, PASSWORD);
    await page.goto(`${session.stack.webUrl}/vehicles/${vehicle}/diagnostics`);
    await hydrated(page.getByRole('button', { name: 'Read codes now' }));
    await waitUntil('the simulator sets P0171', async () => truth().some((t) => t.milOn), Boolean, 30_000);

    // The agent has reported it (the events lane); read it now through a signed command.
    await page.getByRole('button', { name: 'Read codes now' }).click();
    const codes = page.getByRole('table', { name: 'Trouble codes on the vehicle now' });
    await codes.getByRole('cell', { name: 'P0171', exact: true }).waitFor({ timeout: 20_000 });
    await expectNoAxeViolations(page, 'diagnostics page with a code');
    // A work order opened from the code (issue 18 §1): its link and status then replace the button.
    await codes.getByRole('button', { name: 'Open a work order: trouble code P0171' }).click();
    await codes.getByRole('link', { name: /^Work order \d+ \(open\)$/ }).waitFor({ timeout: 10_000 });

    // Clear: the reason, then the explicit confirmation.
    await page.getByRole('button', { name: 'Clear codes…' }).click();
    await page.getByLabel('Reason (kept in the audit log)').fill('Intake gasket replaced');
    await page.getByRole('button', { name: 'Clear codes', exact: true }).click();
    await expectNoAxeViolations(page, 'clear confirmation');
    await page.getByRole('button', { name: 'Yes, clear the codes' }).click();
    const history = page.getByTestId('command-history');
    await history
      .getByRole('row')
      .filter({ hasText: 'clearDtcs' })
      .filter({ hasText: 'cleared P0171; MIL off' })
      .waitFor({ timeout: 20_000 });
    await page.getByText('No trouble codes stored.').waitFor({ timeout: 10_000 });
    await waitUntil(
      'the simulator’s MIL off',
      async () => truth().at(-1)!.milOn,
      (on) => on === false,
      10_000,
    );

    const { rows } = await session.db.query<{ entity: string; action: string }>(
      `SELECT entity, action FROM audit_log WHERE entity IN (SELECT 'command:' || id FROM vehicle_commands WHERE name = 'clearDtcs') ORDER BY id`,
    );
    expect(rows.map((r) => r.action)).toEqual(['vehicle.command', 'vehicle.command.result']);
    expect(await verifyAuditChain(session.db)).toMatchObject({ ok: true });

    // Live PIDs: MAF (not in the agent's schedule) and rpm for 60 s; the page closes after a few.
    await page.getByLabel('Mass air flow (g/s)').check();
    await page.getByRole('button', { name: 'Start live stream' }).click();
    await page
      .getByTestId('live-state')
      .filter({ hasText: /Streaming: ([5-9]|\d\d+) readings/ })
      .waitFor({
        timeout: 20_000,
      });
    await page.getByRole('table', { name: 'Latest live values' }).waitFor();
    await expectNoAxeViolations(page, 'diagnostics page streaming');
    const streamed = await session.db.query<{ id: string }>(
      `SELECT id FROM vehicle_commands WHERE name = 'streamPids' AND status = 'ok'`,
    );
    expect(streamed.rows).toHaveLength(1);
    await page.close();
    // Closing the page ends the SSE stream; the API sends stopStream and the agent stops polling.
    const stop = await waitUntil(
      'the stopStream answer',
      async () =>
        (
          await session.db.query<{ status: string; result: { stopped: boolean; frames: number } | null }>(
            `SELECT status, result FROM vehicle_commands WHERE name = 'stopStream'`,
          )
        ).rows,
      (r) => r.length === 1 && r[0]!.status === 'ok',
      20_000,
    );
    expect(stop[0]!.result).toMatchObject({ stopped: true });
    expect(stop[0]!.result!.frames).toBeGreaterThanOrEqual(5);
    await context.close();
  }, 90_000);
});
