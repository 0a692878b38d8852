'use client';

/**
 * The monthly fuel budgets the cost report measures spend against: listed for every report reader,
 * set (or removed, with an empty amount) by the roles that plan them (reports:budgets).
 */
import { type FormEvent, useState } from 'react';
import { DataTable, numeric } from '../../components/data-table.tsx';
import { ChoiceField, InputField } from '../../components/form-field.tsx';
import { PageMessages } from '../../components/page-messages.tsx';
import { formErrorsOf } from '../../lib/field-errors.ts';
import { formatAmount, formatUtcDateTime } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { useQuery } from '../../lib/use-query.ts';

type Scope = 'fleet' | 'group' | 'cost_centre' | 'vehicle';
const SCOPES: readonly (readonly [Scope, string])[] = [
  ['fleet', 'Whole fleet'],
  ['group', 'Group (id)'],
  ['cost_centre', 'Cost centre (name)'],
  ['vehicle', 'Vehicle (id)'],
];

export function BudgetsEditor({ canEdit }: { canEdit: boolean }) {
  const budgets = useQuery(null, (signal) => trpc.reports.budgets.query({}, { signal }));
  const [scope, setScope] = useState<Scope>('fleet');
  const [scopeKey, setScopeKey] = useState('');
  const [month, setMonth] = useState(() => new Date().toISOString().slice(0, 7));
  const [amount, setAmount] = useState('');
  const [currency, setCurrency] = useState('EUR');
  const [fields, setFields] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const value = amount.trim() === '' ? null : Number(amount);
    if (value !== null && !(value >= 0)) {
      setFields({ amount: 'Enter an amount of 0 or more, or nothing to remove the budget.' });
      return;
    }
    try {
      await trpc.reports.setBudget.mutate({
        scope,
        scopeKey: scope === 'fleet' ? '' : scopeKey.trim(),
        month,
        amount: value,
        currency: currency.trim().toUpperCase(),
      });
      setFields({});
      setError(null);
      setMessage(value === null ? `Budget for ${month} removed.` : `Budget for ${month} set.`);
      await budgets.reload();
    } catch (err) {
      const f = formErrorsOf(err);
      setFields(f.fields);
      setError(f.form);
    }
  };

  return (
    <>
      <PageMessages message={message} error={error} />
      {canEdit && (
        <form onSubmit={submit} noValidate aria-label="Set a monthly fuel budget">
          <fieldset className="register-form">
            <legend>Set a monthly fuel budget</legend>
            <ChoiceField
              id="budget-scope"
              label="For"
              value={scope}
              onChange={(v) => setScope(v as Scope)}
              options={SCOPES}
            />
            {scope !== 'fleet' && (
              <InputField
                id="budget-key"
                label={
                  scope === 'cost_centre' ? 'Cost centre' : scope === 'group' ? 'Group id' : 'Vehicle id'
                }
                value={scopeKey}
                onChange={setScopeKey}
                error={fields.scopeKey}
                maxLength={100}
              />
            )}
            <InputField
              id="budget-month"
              label="Month"
              type="month"
              value={month}
              onChange={setMonth}
              error={fields.month}
            />
            <InputField
              id="budget-amount"
              label="Amount (empty: remove)"
              inputMode="decimal"
              value={amount}
              onChange={setAmount}
              error={fields.amount}
            />
            <InputField
              id="budget-currency"
              label="Currency"
              value={currency}
              onChange={setCurrency}
              error={fields.currency}
              maxLength={3}
            />
            <p className="actions">
              <button type="submit">Save budget</button>
            </p>
          </fieldset>
        </form>
      )}
      {budgets.error && <p className="error-text">Could not load the budgets: {budgets.error}</p>}
      {budgets.data &&
        (budgets.data.length === 0 ? (
          <p>No budgets for the last 12 months. Vehicles may still have one in the register.</p>
        ) : (
          <DataTable
            data-table="budgets"
            caption="Monthly fuel budgets of the last 12 months"
            columns={['Month', 'For', numeric('Amount'), 'Set by', 'Set at (UTC)']}
          >
            {budgets.data.map((b) => (
              <tr key={`${b.month}-${b.scope}-${b.scopeKey}`}>
                <th scope="row">{b.month}</th>
                <td>
                  {SCOPES.find(([s]) => s === b.scope)?.[1].replace(/ \(.*\)$/, '')}
                  {b.scopeKey ? ` ${b.scopeKey}` : ''}
                </td>
                <td className="num">{formatAmount(b.amount, b.currency)}</td>
                <td>{b.updatedBy}</td>
                <td>{formatUtcDateTime(b.updatedAt)}</td>
              </tr>
            ))}
          </DataTable>
        ))}
    </>
  );
}
