'use client';

/**
 * One work order: where it came from, who works on it, its status, and its parts and labour with
 * their cost. Done resets the service it was opened for.
 */
import { type FormEvent, useState } from 'react';
import { DataTable, numeric } from '../../../../components/data-table.tsx';
import { ChoiceField, InputField } from '../../../../components/form-field.tsx';
import { NotAllowed } from '../../../../components/not-allowed.tsx';
import { PageMessages } from '../../../../components/page-messages.tsx';
import { VehicleLink } from '../../../../components/vehicle-link.tsx';
import { useAuthRedirect } from '../../../../lib/auth-redirect.ts';
import { formErrorsOf } from '../../../../lib/field-errors.ts';
import { formatUtcDateTime, MISSING, toIsoTimestamp } from '../../../../lib/format.ts';
import { trpc } from '../../../../lib/trpc.ts';
import { usePermissions } from '../../../../lib/use-permissions.ts';
import { useQuery } from '../../../../lib/use-query.ts';
import { SOURCE_LABELS, STATUS_LABELS } from '../../maintenance-nav.tsx';

type Status = 'open' | 'in_progress' | 'waiting_parts' | 'done' | 'cancelled';

export function WorkOrderDetail({ workOrderId }: { workOrderId: number }) {
  const permissions = usePermissions(true);
  const detail = useQuery(workOrderId, (signal) => trpc.workOrders.get.query({ workOrderId }, { signal }));
  const people = useQuery(null, (signal) => trpc.maintenance.technicians.query(undefined, { signal }));
  const [status, setStatus] = useState<Status | ''>('');
  const [assignee, setAssignee] = useState<string | null>(null);
  const [kind, setKind] = useState<'part' | 'labour'>('part');
  const [description, setDescription] = useState('');
  const [quantity, setQuantity] = useState('1');
  const [unitCost, setUnitCost] = useState('');
  const [lineErrors, setLineErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const onError = useAuthRedirect(setError);
  if (permissions && !permissions.has('maintenance:read')) return <NotAllowed what="work orders" />;
  const canWrite = permissions?.has('maintenance:write') ?? false;
  if (detail.data === null) return <PageMessages error={detail.error} />;
  const { order, lines } = detail.data;
  const closed = order.status === 'done' || order.status === 'cancelled';

  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await trpc.workOrders.update.mutate({
        workOrderId,
        ...(status && status !== order.status ? { status } : {}),
        ...(assignee !== null ? { assigneeId: assignee || null } : {}),
      });
      setMessage('Work order saved.');
      setError(null);
      setStatus('');
      setAssignee(null);
      await detail.reload();
    } catch (err) {
      onError(err);
    }
  };

  const addLine = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await trpc.workOrders.addLine.mutate({ workOrderId, kind, description, quantity, unitCost });
      setMessage(`${kind === 'part' ? 'Part' : 'Labour'} added.`);
      setLineErrors({});
      setDescription('');
      setUnitCost('');
      setQuantity('1');
      await detail.reload();
    } catch (err) {
      const f = formErrorsOf(err);
      setLineErrors(f.fields);
      if (f.form) setError(f.form);
    }
  };

  return (
    <>
      <PageMessages message={message} error={error ?? detail.error} />
      <dl className="facts" data-testid="work-order">
        <dt>Title</dt>
        <dd>{order.title}</dd>
        <dt>Vehicle</dt>
        <dd>
          <VehicleLink vehicleId={order.vehicleId} />
        </dd>
        <dt>Source</dt>
        <dd>
          {SOURCE_LABELS[order.source.kind]}
          {order.source.ref ? ` (${order.source.ref})` : ''}
        </dd>
        <dt>Status</dt>
        <dd data-testid="work-order-status">{STATUS_LABELS[order.status]}</dd>
        <dt>Technician</dt>
        <dd>{order.assigneeName ?? MISSING}</dd>
        <dt>Opened</dt>
        <dd>
          <time dateTime={toIsoTimestamp(order.openedAt)}>{formatUtcDateTime(order.openedAt)}</time>
        </dd>
        {order.notes ? (
          <>
            <dt>Notes</dt>
            <dd>{order.notes}</dd>
          </>
        ) : null}
        <dt>Cost</dt>
        <dd data-testid="work-order-total">
          {order.totalCost} {order.currency} (parts {order.partsCost}, labour {order.labourCost})
        </dd>
      </dl>
      {canWrite && !closed ? (
        <form onSubmit={save} aria-label="Status and technician">
          <fieldset className="register-form">
            <legend>Status and technician</legend>
            <ChoiceField
              id="wo-status"
              label="Status"
              value={status || order.status}
              onChange={(v) => setStatus(v as Status)}
              options={Object.entries(STATUS_LABELS)}
            />
            <ChoiceField
              id="wo-assignee"
              label="Technician"
              value={assignee ?? order.assigneeId ?? ''}
              onChange={setAssignee}
              options={[['', 'Nobody'], ...(people.data ?? []).map((p) => [p.id, p.name] as const)]}
            />
            <p className="actions">
              <button type="submit">Save</button>
            </p>
          </fieldset>
        </form>
      ) : null}
      <DataTable
        caption="Parts and labour"
        columns={['Kind', 'Description', numeric('Quantity'), numeric('Unit cost'), numeric('Amount')]}
        data-testid="work-order-lines"
      >
        {lines.length === 0 ? (
          <tr>
            <td colSpan={5}>No parts or labour yet.</td>
          </tr>
        ) : (
          lines.map((l) => (
            <tr key={l.id}>
              <td>{l.kind === 'part' ? 'Part' : 'Labour'}</td>
              <td>{l.description}</td>
              <td className="num">{l.quantity}</td>
              <td className="num">{l.unitCost}</td>
              <td className="num">
                {l.amount} {order.currency}
              </td>
            </tr>
          ))
        )}
      </DataTable>
      {canWrite && !closed ? (
        <form onSubmit={addLine} noValidate aria-label="Add a part or labour">
          <fieldset className="register-form">
            <legend>Add a part or labour</legend>
            <ChoiceField
              id="line-kind"
              label="Kind"
              value={kind}
              onChange={(v) => setKind(v as 'part' | 'labour')}
              options={[
                ['part', 'Part'],
                ['labour', 'Labour'],
              ]}
            />
            <InputField
              id="line-description"
              label="Description"
              value={description}
              onChange={setDescription}
              maxLength={200}
              error={lineErrors.description}
            />
            <InputField
              id="line-quantity"
              label="Quantity"
              inputMode="decimal"
              value={quantity}
              onChange={setQuantity}
              error={lineErrors.quantity}
            />
            <InputField
              id="line-unit-cost"
              label={`Unit cost (${order.currency})`}
              inputMode="decimal"
              value={unitCost}
              onChange={setUnitCost}
              error={lineErrors.unitCost}
            />
            <p className="actions">
              <button type="submit">Add line</button>
            </p>
          </fieldset>
        </form>
      ) : null}
    </>
  );
}
