'use client';

import { type FormEvent, useEffect, useRef, useState } from 'react';
import { DataTable, numeric } from '../../../../components/data-table.tsx';
import { PageMessages } from '../../../../components/page-messages.tsx';
import { UtcTime } from '../../../../components/utc-time.tsx';
import { useMe } from '../../../../lib/access.ts';
import { trpc } from '../../../../lib/trpc.ts';
import { useQuery } from '../../../../lib/use-query.ts';
import {
  InspectSuggestions,
  useVehicleOrders,
  type VehicleOrder,
  WorkOrderCell,
} from './work-order-links.tsx';

type Command = Awaited<ReturnType<typeof trpc.commands.get.query>>;
type Code = { code: string; kind: string; ecu: string };

const DAY = 86_400_000;
/** The PIDs a technician usually watches live (service 01). */
const LIVE_PIDS = [
  { pid: 0x0c, label: 'Engine speed (rpm)' },
  { pid: 0x0d, label: 'Vehicle speed (km/h)' },
  { pid: 0x05, label: 'Coolant temperature (°C)' },
  { pid: 0x10, label: 'Mass air flow (g/s)' },
  { pid: 0x11, label: 'Throttle position (%)' },
] as const;
const hex = (pid: number) => pid.toString(16).toUpperCase().padStart(2, '0');
const FINAL = new Set(['ok', 'failed', 'refused', 'unknown', 'invalid', 'expired']);

function describeResult(c: Command): string {
  if (c.status !== 'ok') return [c.refusal, c.answer].filter(Boolean).join(': ') || '—';
  const r = c.result as Record<string, unknown> | null;
  if (!r) return '—';
  if (c.name === 'readDtcs') {
    const codes = (r.codes as Code[]).map((x) => x.code);
    return `${codes.length === 0 ? 'no codes' : codes.join(', ')}; MIL ${r.milOn ? 'on' : 'off'}`;
  }
  if (c.name === 'clearDtcs') {
    const cleared = r.cleared as string[];
    return `cleared ${cleared.length === 0 ? 'nothing' : cleared.join(', ')}; MIL ${r.milOn ? 'on' : 'off'}`;
  }
  if (c.name === 'streamPids') return `stream until ${new Date(r.until as number).toISOString()}`;
  return JSON.stringify(r).slice(0, 160);
}

export function VehicleDiagnostics({ vehicleId }: { vehicleId: string }) {
  const me = useMe().data;
  const permissions = new Set(me?.permissions ?? []);
  const canSend = permissions.has('commands:send');
  const canClear = permissions.has('commands:clear');
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [refresh, setRefresh] = useState(0);
  // Work orders opened from a code or an inspect suggestion: the button, or the order's link.
  const canReadOrders = permissions.has('maintenance:read');
  const { orders, reload: reloadOrders } = useVehicleOrders(vehicleId, canReadOrders);
  const orderCell = {
    vehicleId,
    orders,
    canWrite: permissions.has('maintenance:write') && canReadOrders,
    onOpened: (m: string) => {
      setFailure(null);
      setMessage(m);
      reloadOrders();
    },
    onError: setFailure,
  };

  const codes = useQuery({ vehicleId, refresh }, (signal) => {
    const to = Date.now();
    return trpc.telemetry.events.query({ vehicleId, from: to - 92 * DAY, to, limit: 200 }, { signal });
  });
  const history = useQuery(
    canSend || permissions.has('commands:read') ? { vehicleId, refresh } : null,
    (signal) => trpc.commands.list.query({ vehicleId, limit: 50 }, { signal }),
  );
  const waiting = history.data?.items.some((c) => !FINAL.has(c.status) && c.name !== 'streamPids') ?? false;
  // While a command waits for its answer, the history is read again every 2 s.
  useEffect(() => {
    if (!waiting) return;
    const t = setInterval(() => setRefresh((n) => n + 1), 2000);
    return () => clearInterval(t);
  }, [waiting]);

  // The newest answered read or clear says what the vehicle holds now; else the codes reported.
  const latestRead = history.data?.items.find(
    (c) => (c.name === 'readDtcs' || c.name === 'clearDtcs') && c.status === 'ok',
  );
  const reported = (codes.data?.items ?? []).filter((e) => e.type === 'dtc');

  const send = async (name: 'readDtcs' | 'agentStatus') => {
    setFailure(null);
    try {
      const c = await trpc.commands.send.mutate({ vehicleId, name });
      setMessage(
        `${name === 'readDtcs' ? 'Read codes' : 'Agent status'} sent (${c.status}); the answer appears in the history.`,
      );
      setRefresh((n) => n + 1);
    } catch (err) {
      setFailure((err as Error).message);
    }
  };

  return (
    <>
      <PageMessages message={message} error={failure ?? (codes.error ? String(codes.error) : null)} />
      <section aria-labelledby="codes-heading">
        <h2 id="codes-heading">Trouble codes and commands</h2>
        {latestRead ? (
          <CurrentCodes command={latestRead} orderCell={canReadOrders ? orderCell : null} />
        ) : reported.length > 0 ? (
          <DataTable
            caption="Trouble codes the vehicle reported (last 92 days)"
            columns={canReadOrders ? ['Code', 'Reported', 'Work order'] : ['Code', 'Reported']}
          >
            {reported.map((e) => {
              const code = String((e.details as { code?: string }).code ?? '—');
              return (
                <tr key={e.eventId}>
                  <td>{code}</td>
                  <td>
                    <UtcTime ms={e.start} />
                  </td>
                  {canReadOrders && (
                    <td>
                      <CodeOrder code={code} cell={orderCell} />
                    </td>
                  )}
                </tr>
              );
            })}
          </DataTable>
        ) : (
          codes.data && <p>No trouble codes reported.</p>
        )}
        {canSend && (
          <p className="button-row">
            <button type="button" onClick={() => void send('readDtcs')}>
              Read codes now
            </button>{' '}
            <button type="button" onClick={() => void send('agentStatus')}>
              Agent status
            </button>
          </p>
        )}
        {canClear && <ClearCodes vehicleId={vehicleId} onSent={() => setRefresh((n) => n + 1)} />}
      </section>
      {permissions.has('vehicles:health') && <InspectSuggestions {...orderCell} />}
      {canSend && <LivePids vehicleId={vehicleId} />}
      {history.data && (
        <section aria-labelledby="history-heading">
          <h2 id="history-heading">Command history</h2>
          {history.data.items.length === 0 ? (
            <p>No commands sent to this vehicle yet.</p>
          ) : (
            <DataTable
              caption="Signed commands to this vehicle, newest first"
              columns={['Command', 'Issued', 'By', 'Status', 'Answer', numeric('Sends')]}
              data-testid="command-history"
            >
              {history.data.items.map((c) => (
                <tr key={c.id}>
                  <td>{c.name}</td>
                  <td>
                    <UtcTime ms={c.issuedAt} />
                  </td>
                  <td>{c.issuedBy}</td>
                  <td>{c.status}</td>
                  <td>{describeResult(c)}</td>
                  <td className="num">{c.sends}</td>
                </tr>
              ))}
            </DataTable>
          )}
        </section>
      )}
    </>
  );
}

type OrderCell = {
  vehicleId: string;
  orders: readonly VehicleOrder[] | null;
  canWrite: boolean;
  onOpened: (message: string) => void;
  onError: (message: string) => void;
};

/** A trouble code's work order (source { kind: 'dtc', ref: code }), or the button to open one. */
function CodeOrder({ code, cell }: { code: string; cell: OrderCell }) {
  if (!/^[PCBU][0-9A-F]{4}$/.test(code)) return <>—</>;
  return (
    <WorkOrderCell
      {...cell}
      kind="dtc"
      sourceRef={code}
      title={`Trouble code ${code}`}
      label={`trouble code ${code}`}
    />
  );
}

function CurrentCodes({ command, orderCell }: { command: Command; orderCell: OrderCell | null }) {
  const r = command.result as { codes?: Code[]; remaining?: Code[]; milOn: boolean | null };
  const list = r.codes ?? r.remaining ?? [];
  return (
    <>
      <p>
        As read <UtcTime ms={command.answeredAt ?? command.issuedAt} />: MIL {r.milOn ? 'on' : 'off'}.
      </p>
      {list.length === 0 ? (
        <p>No trouble codes stored.</p>
      ) : (
        <DataTable
          caption="Trouble codes on the vehicle now"
          columns={orderCell ? ['Code', 'Kind', 'ECU', 'Work order'] : ['Code', 'Kind', 'ECU']}
        >
          {list.map((c) => (
            <tr key={`${c.code}-${c.kind}-${c.ecu}`}>
              <td>{c.code}</td>
              <td>{c.kind}</td>
              <td>{c.ecu}</td>
              {orderCell && (
                <td>
                  <CodeOrder code={c.code} cell={orderCell} />
                </td>
              )}
            </tr>
          ))}
        </DataTable>
      )}
    </>
  );
}

/** Clear with a reason, confirmed twice: the form, then an explicit "yes". */
function ClearCodes({ vehicleId, onSent }: { vehicleId: string; onSent: () => void }) {
  const [step, setStep] = useState<'closed' | 'reason' | 'confirm'>('closed');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (reason.trim().length < 3) return setError('Say why the codes are cleared (at least 3 characters).');
    setError(null);
    setStep('confirm');
  };
  const clear = async () => {
    try {
      await trpc.commands.clearDtcs.mutate({ vehicleId, reason: reason.trim() });
      setStep('closed');
      setReason('');
      onSent();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  if (step === 'closed')
    return (
      <p>
        <button type="button" onClick={() => setStep('reason')}>
          Clear codes…
        </button>
      </p>
    );
  return (
    <form onSubmit={submit} aria-labelledby="clear-heading">
      <h3 id="clear-heading">Clear trouble codes</h3>
      <p>
        Clearing also erases the freeze frames and resets the readiness monitors (the vehicle fails an
        emissions check until they have run again).
      </p>
      <label htmlFor="clear-reason">Reason (kept in the audit log)</label>
      <textarea
        id="clear-reason"
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        disabled={step === 'confirm'}
        rows={2}
      />
      {error && (
        <p role="alert" className="field-error">
          {error}
        </p>
      )}
      {step === 'reason' ? (
        <p>
          <button type="submit">Clear codes</button>{' '}
          <button type="button" onClick={() => setStep('closed')}>
            Cancel
          </button>
        </p>
      ) : (
        <p role="alert">
          Clear every trouble code on {vehicleId} now?{' '}
          <button type="button" onClick={() => void clear()}>
            Yes, clear the codes
          </button>{' '}
          <button type="button" onClick={() => setStep('reason')}>
            No
          </button>
        </p>
      )}
    </form>
  );
}

/** Live PIDs for a bounded time; closing the page (or Stop) ends the stream on the vehicle. */
function LivePids({ vehicleId }: { vehicleId: string }) {
  const [pids, setPids] = useState<number[]>([0x0c, 0x0d]);
  const [seconds, setSeconds] = useState(30);
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [frames, setFrames] = useState(0);
  const [state, setState] = useState<'idle' | 'streaming' | 'ended'>('idle');
  const [error, setError] = useState<string | null>(null);
  const sub = useRef<{ unsubscribe: () => void } | null>(null);
  useEffect(() => () => sub.current?.unsubscribe(), []);
  const start = () => {
    setError(null);
    setFrames(0);
    setValues({});
    setState('streaming');
    sub.current = trpc.commands.streamPids.subscribe(
      { vehicleId, pids, seconds },
      {
        onData: (f) => {
          if ('started' in f) return;
          if (f.end) {
            setState('ended');
            sub.current?.unsubscribe();
            return;
          }
          setValues(f.values);
          setFrames((n) => n + 1);
        },
        onError: (err) => {
          setError(err.message);
          setState('ended');
        },
        onComplete: () => setState('ended'),
      },
    );
  };
  const stop = () => {
    sub.current?.unsubscribe();
    sub.current = null;
    setState('ended');
  };
  return (
    <section aria-labelledby="live-heading">
      <h2 id="live-heading">Live PIDs</h2>
      <fieldset disabled={state === 'streaming'}>
        <legend>PIDs to stream</legend>
        {LIVE_PIDS.map((p) => (
          <label key={p.pid} className="checkbox">
            <input
              type="checkbox"
              checked={pids.includes(p.pid)}
              onChange={(e) =>
                setPids((cur) => (e.target.checked ? [...cur, p.pid] : cur.filter((x) => x !== p.pid)))
              }
            />{' '}
            {p.label}
          </label>
        ))}
        <label htmlFor="live-seconds">For how many seconds (5–600)</label>
        <input
          id="live-seconds"
          type="number"
          min={5}
          max={600}
          value={seconds}
          onChange={(e) => setSeconds(Math.max(5, Math.min(600, Number(e.target.value) || 5)))}
        />
      </fieldset>
      <p>
        {state === 'streaming' ? (
          <button type="button" onClick={stop}>
            Stop stream
          </button>
        ) : (
          <button type="button" onClick={start} disabled={pids.length === 0}>
            Start live stream
          </button>
        )}
      </p>
      {error && <p role="alert">{error}</p>}
      <p aria-live="polite" data-testid="live-state">
        {state === 'streaming'
          ? `Streaming: ${frames} readings`
          : state === 'ended'
            ? `Stream ended after ${frames} readings`
            : ''}
      </p>
      {frames > 0 && (
        <DataTable caption="Latest live values" columns={['PID', numeric('Value')]}>
          {LIVE_PIDS.filter((p) => pids.includes(p.pid)).map((p) => {
            const v = values[hex(p.pid)];
            return (
              <tr key={p.pid}>
                <td>{p.label}</td>
                <td className="num">{typeof v === 'number' ? v.toFixed(1) : '—'}</td>
              </tr>
            );
          })}
        </DataTable>
      )}
    </section>
  );
}
