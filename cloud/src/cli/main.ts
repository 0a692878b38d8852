/**
 * `fleet-cloud`: operator commands against the cloud database (DATABASE_URL, DATABASE_SCHEMA).
 *   fleet-cloud migrate [--json]
 *   fleet-cloud audit verify [--json]     exit 0 intact, 1 tampered, 2 cannot check
 *   fleet-cloud db backup-drill [--json] [--keep]   dump → restore → counts + audit verify (cli/backup-drill.ts)
 *   fleet-cloud devices provision|rotate|revoke|list VEHICLE --tenant T     vehicles' devices (cli/devices.ts)
 *   fleet-cloud device provision|revoke USERNAME --tenant T --password-file F [--broker-pid P]
 *                                          a raw password-file login (services such as fleet-ingest)
 *   fleet-cloud secrets new-key ID | secrets rotate [--json]   (FLEET_SECRET_KEYS)
 *   fleet-cloud fuel import|reconcile|forecast --tenant T        fuel-card purchases (cli/fuel.ts)
 *   fleet-cloud model keygen|train|publish                     engine-anomaly models (cli/model.ts)
 *   fleet-cloud vehicles|drivers|groups ... --tenant T           the fleet register (cli/register.ts)
 *   fleet-cloud drivers rescore [--day D] [--days N] [--tenant T]   driver scores (cli/scores.ts)
 *   fleet-cloud reports ifta|carbon|distance|rates|boundaries   IFTA return, carbon (cli/reports.ts)
 *   fleet-cloud vehicle cmd VEHICLE NAME --tenant T [--args J] [--wait]   signed remote commands (cli/vehicle.ts)
 */
import { createLogger, safeUrl } from '@fleet/shared/log';
import { Command } from 'commander';
import { loadCliConfig } from '../config.ts';
import { migrate } from '../db/migrate.ts';
import { openPool } from '../db/pool.ts';
import { verifyAuditChain } from '../db/queries/audit-log.ts';
import { rotateTenantSecrets } from '../db/queries/tenant-secrets.ts';
import { MosquittoCredentials } from '../devices/mosquitto-credentials.ts';
import { CloudError, CloudErrorCode, isCloudError } from '../errors.ts';
import { SecretBox } from '../security/secret-box.ts';
import { type BackupDrillCliOptions, registerDbCommands } from './backup-drill.ts';
import { registerDevicesCommands } from './devices.ts';
import { registerFuelCommands } from './fuel.ts';
import { type CliIo, consoleIo } from './io.ts';
import { registerModelCommands } from './model.ts';
import { registerRegisterCommands } from './register.ts';
import { registerReportsCommands } from './reports.ts';
import { registerScoreCommands } from './scores.ts';
import { registerVehicleCommands } from './vehicle.ts';

interface DbOptions {
  databaseUrl: string;
  schema?: string;
  json?: boolean;
}

async function withPool<T>(o: DbOptions, fn: (pool: Awaited<ReturnType<typeof openPool>>) => Promise<T>) {
  const pool = await openPool({ url: o.databaseUrl, schema: o.schema, max: 2 });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

export async function auditVerify(o: DbOptions, io: CliIo = consoleIo): Promise<number> {
  const verdict = await withPool(o, verifyAuditChain);
  if (o.json) io.out(JSON.stringify(verdict));
  else if (verdict.ok) io.out(`audit log intact: ${verdict.entries} entries, every hash and link checked`);
  else
    io.out(
      `audit log TAMPERED: first bad entry is id ${verdict.firstBadId} (${
        verdict.problem === 'edited'
          ? 'its content no longer matches its hash: edited'
          : 'its link to the entry before does not hold: an entry was deleted or moved'
      }); ${verdict.entries} entries`,
    );
  return verdict.ok ? 0 : 1;
}

export function buildCli(io: CliIo = consoleIo): Command {
  const env = loadCliConfig();
  const program = new Command('fleet-cloud')
    .description('Operator commands for the fleet cloud database.')
    .option('--database-url <url>', 'PostgreSQL URL', env.databaseUrl)
    .option('--schema <name>', 'schema (search_path)', env.databaseSchema)
    .showHelpAfterError();
  const dbOpts = (cmd: Command): DbOptions => ({ ...program.opts(), ...cmd.opts() }) as DbOptions;

  program
    .command('migrate')
    .description('apply pending SQL migrations (the cloud also does this at start)')
    .option('--json', 'one JSON document')
    .action(async (_o, cmd: Command) => {
      const o = dbOpts(cmd);
      const applied = await withPool(o, (pool) => migrate(pool, createLogger('migrate')));
      io.out(
        o.json ? JSON.stringify({ applied }) : `${applied} migration(s) applied to ${safeUrl(o.databaseUrl)}`,
      );
    });

  program
    .command('audit')
    .description('the append-only, hash-chained audit log')
    .command('verify')
    .description('recompute every hash and link; name the first entry that was edited, deleted or moved')
    .option('--json', 'one JSON document: {ok, entries, firstBadId?, problem?}')
    .action(async (_o, cmd: Command) => {
      process.exitCode = await auditVerify(dbOpts(cmd), io);
    });
  registerDbCommands(program, io, (cmd) => ({ ...program.opts(), ...cmd.opts() }) as BackupDrillCliOptions);
  const device = program
    .command('device')
    .description(
      "raw MQTT logins in Mosquitto's password file (services such as fleet-ingest; vehicles: `devices`)",
    );
  for (const verb of ['provision', 'revoke'] as const) {
    device
      .command(`${verb} <username>`)
      .description(
        verb === 'provision'
          ? 'create or replace a password for a vehicle id (printed once, never stored in plain)'
          : 'remove a credential; the broker refuses its next connection',
      )
      .requiredOption('--password-file <path>', "the broker's password_file")
      .option('--tenant <id>', 'tenant the vehicle belongs to (for the audit log)')
      .option('--broker-pid <pid>', 'send the broker SIGHUP so it re-reads the file')
      .option('--actor <who>', 'who does this, for the audit log', `user:${env.operator}`)
      .option('--json', 'one JSON document')
      .action(async (username: string, _o, cmd: Command) => {
        const o = dbOpts(cmd) as DbOptions & {
          passwordFile: string;
          tenant?: string;
          brokerPid?: string;
          actor: string;
        };
        await withPool(o, async (pool) => {
          const creds = new MosquittoCredentials({
            passwordFile: o.passwordFile,
            passwdCommand: env.mosquittoPasswd,
            reload: () => {
              if (o.brokerPid) process.kill(Number(o.brokerPid), 'SIGHUP');
            },
            audit: { db: pool, actor: o.actor },
          });
          if (verb === 'provision') {
            const c = await creds.provision(username, o.tenant ?? null);
            io.out(
              o.json
                ? JSON.stringify(c)
                : `MQTT_USERNAME=${c.username}\nMQTT_PASSWORD=${c.password}\n(give these to the vehicle now; they are not shown again)`,
            );
          } else {
            await creds.revoke(username, o.tenant ?? null);
            io.out(o.json ? JSON.stringify({ revoked: username }) : `revoked ${username}`);
          }
          if (!o.brokerPid) io.err('note: no --broker-pid: send the broker SIGHUP to apply the change');
        });
      });
  }
  const secrets = program
    .command('secrets')
    .description('tenant secrets sealed with AES-256-GCM (FLEET_SECRET_KEYS)');
  secrets
    .command('new-key <id>')
    .description('print a new random key as "id:base64"; put it first in FLEET_SECRET_KEYS, then rotate')
    .action((id: string) => io.out(SecretBox.generateKey(id)));
  secrets
    .command('rotate')
    .description('re-seal every secret under the first key of FLEET_SECRET_KEYS (then older keys can go)')
    .option('--actor <who>', 'who does this, for the audit log', `user:${env.operator}`)
    .option('--json', 'one JSON document')
    .action(async (_o, cmd: Command) => {
      const o = dbOpts(cmd) as DbOptions & { actor: string };
      const box = env.secretBox;
      if (!box) throw new CloudError(CloudErrorCode.SecretKeys, 'FLEET_SECRET_KEYS is not set');
      const n = await withPool(o, async (pool) => {
        const c = await pool.connect();
        try {
          return await rotateTenantSecrets(c, box, o.actor);
        } finally {
          c.release();
        }
      });
      io.out(
        o.json
          ? JSON.stringify({ resealed: n, key: box.activeKeyId })
          : `${n} secret(s) re-sealed under key ${box.activeKeyId}`,
      );
    });
  registerDevicesCommands(program, io, env);
  registerModelCommands(program, io);
  registerVehicleCommands(program, io);
  registerFuelCommands(program, io);
  registerRegisterCommands(program, io, env.operator);
  registerReportsCommands(program, io, env.operator);
  registerScoreCommands(program, io);
  return program;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('fleet-cloud.js')) {
  // A bad environment variable is reported like any other error (buildCli reads them).
  Promise.resolve()
    .then(() => buildCli().parseAsync())
    .catch((err: unknown) => {
      console.error(isCloudError(err) ? `E${err.code}: ${err.message}` : `error: ${(err as Error).message}`);
      process.exitCode = 2;
    });
}
