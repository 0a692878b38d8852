'use client';

import { type FormEvent, useState } from 'react';
import { DataTable } from '../../../components/data-table.tsx';
import { fieldErrorBindings } from '../../../components/field-errors.tsx';
import { NotAllowed } from '../../../components/not-allowed.tsx';
import { PageMessages } from '../../../components/page-messages.tsx';
import { formErrorsOf } from '../../../lib/field-errors.ts';
import { trpc } from '../../../lib/trpc.ts';
import { usePermissions } from '../../../lib/use-permissions.ts';
import { useQuery } from '../../../lib/use-query.ts';

const FORMATS = [
  { value: 'json', label: 'JSON (signed, for your own systems)' },
  { value: 'slack', label: 'Slack incoming webhook' },
  { value: 'teams', label: 'Microsoft Teams incoming webhook' },
] as const;
type Format = (typeof FORMATS)[number]['value'];

/**
 * The tenant's webhook endpoints: the places alert rules with the "Webhook" channel post to. The
 * signing secret is shown once, when the endpoint is made (the receiver checks `Fleet-Signature`
 * with it, docs in the README); after that only the server holds it, sealed.
 */
export function WebhookEndpoints() {
  const permissions = usePermissions(true);
  const allowed = permissions?.has('notifications:manage') ?? false;
  const list = useQuery(allowed ? 'webhooks' : null, () =>
    allowed ? trpc.notifications.webhooks.query() : Promise.resolve([]),
  );
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  if (!permissions) return <p role="status">Loading…</p>;
  if (!allowed) return <NotAllowed what="the webhook endpoints" />;

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const name = String(data.get('name') ?? '').trim();
    const url = String(data.get('url') ?? '').trim();
    const local: Record<string, string> = {};
    if (!name) local.name = 'Give the endpoint a name, e.g. the system that receives it.';
    if (!url) local.url = 'Give the address that receives the alerts (https://…).';
    setFields(local);
    setFailure(null);
    setMessage(null);
    if (Object.keys(local).length > 0) return;
    try {
      const r = await trpc.notifications.createWebhook.mutate({
        name,
        url,
        format: String(data.get('format') ?? 'json') as Format,
      });
      setCreated({ name, secret: r.secret });
      setMessage(`Endpoint ${name} added: its signing secret is shown below, once.`);
      form.reset();
      await list.reload();
    } catch (err) {
      const e = formErrorsOf(err);
      setFields(e.fields);
      setFailure(e.form);
    }
  }

  async function remove(id: number, name: string) {
    setFailure(null);
    setMessage(null);
    try {
      await trpc.notifications.deleteWebhook.mutate({ id });
      setMessage(`Endpoint ${name} removed: it gets no more alerts.`);
      await list.reload();
    } catch (err) {
      setFailure(err instanceof Error ? err.message : 'Not removed.');
    }
  }

  const { invalid, fieldError } = fieldErrorBindings(fields, 'webhook-');

  return (
    <>
      <p>
        Alert rules that deliver by webhook post each alert to every endpoint here, signed with the endpoint's
        secret and carrying an idempotency key, so your receiver can check where it came from and drop a
        repeat.
      </p>
      <PageMessages message={message} error={failure ?? list.error} />
      {created ? (
        <section aria-labelledby="new-secret-heading" className="notice">
          <h2 id="new-secret-heading">Signing secret of {created.name}</h2>
          <p>Copy it into your receiver now: it is not shown again.</p>
          <p className="secret" data-testid="webhook-secret">
            {created.secret}
          </p>
          <button type="button" className="button--secondary" onClick={() => setCreated(null)}>
            I have copied it
          </button>
        </section>
      ) : null}

      <section aria-labelledby="add-webhook-heading">
        <h2 id="add-webhook-heading">Add an endpoint</h2>
        <form className="admin-form" onSubmit={create} noValidate>
          <p>
            <label htmlFor="webhook-name">Name</label>
            <input
              id="webhook-name"
              name="name"
              type="text"
              autoComplete="off"
              maxLength={100}
              {...invalid('name')}
            />
            {fieldError('name')}
          </p>
          <p>
            <label htmlFor="webhook-url">Address (URL)</label>
            <input
              id="webhook-url"
              name="url"
              type="url"
              autoComplete="off"
              inputMode="url"
              maxLength={2000}
              {...invalid('url')}
            />
            {fieldError('url')}
          </p>
          <p>
            <label htmlFor="webhook-format">Format</label>
            <select id="webhook-format" name="format" defaultValue="json">
              {FORMATS.map((f) => (
                <option key={f.value} value={f.value}>
                  {f.label}
                </option>
              ))}
            </select>
          </p>
          <button type="submit">Add endpoint</button>
        </form>
      </section>

      <section aria-labelledby="webhooks-heading">
        <h2 id="webhooks-heading">Endpoints</h2>
        {!list.data ? null : list.data.length === 0 ? (
          <p>No endpoints yet: rules deliver by e-mail, push and text message only.</p>
        ) : (
          <DataTable
            data-table="webhooks"
            caption="Webhook endpoints"
            columns={['Name', 'Address', 'Format', 'At most per minute', 'Action']}
          >
            {list.data.map((w) => (
              <tr key={w.id}>
                <th scope="row">{w.name}</th>
                <td>{w.url}</td>
                <td>{w.format}</td>
                <td>{w.ratePerMinute}</td>
                <td>
                  <button type="button" className="button--secondary" onClick={() => remove(w.id, w.name)}>
                    Remove<span className="visually-hidden"> {w.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
    </>
  );
}
