'use client';

/**
 * The list pages' filter form and its fields. Filters apply on submit (the button, or Enter in a
 * field), not on every key: each change is a request, and a screen reader user hears the result
 * once. `useFilterDraft` keeps what is typed apart from what is applied.
 */
import { type FormEvent, type InputHTMLAttributes, type ReactNode, useCallback, useState } from 'react';
import type { DateInputs } from '../lib/format.ts';

export function FilterBar({
  label,
  legend = 'Filter',
  submitLabel = 'Apply filter',
  onApply,
  children,
}: {
  /** The form's accessible name, e.g. "Filter alerts". */
  label: string;
  legend?: string;
  submitLabel?: string;
  onApply: () => void;
  children: ReactNode;
}) {
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply();
  };
  return (
    <form onSubmit={submit} aria-label={label}>
      <fieldset className="filters">
        <legend>{legend}</legend>
        {children}
        <button type="submit">{submitLabel}</button>
      </fieldset>
    </form>
  );
}

/**
 * What the form shows (`draft`, edited per field) and what the list is filtered by (`applied`).
 * `bind(name)` wires one field to the draft: `<TextField label="Vehicle" {...bind('vehicleId')} />`
 * (its id is `${idPrefix}-${name}`).
 */
export function useFilterDraft<F extends object>(initial: F, idPrefix: string) {
  const [draft, setDraft] = useState(initial);
  const [applied, setApplied] = useState(initial);
  const edit = useCallback((change: Partial<F>) => setDraft((d) => ({ ...d, ...change })), []);
  const apply = useCallback(() => setApplied(draft), [draft]);
  /** Shows and applies `filter` at once (a saved search). */
  const replace = useCallback((filter: F) => {
    setDraft(filter);
    setApplied(filter);
  }, []);
  const bind = <K extends keyof F & string>(name: K) => ({
    id: `${idPrefix}-${name}`,
    value: draft[name],
    onChange: (value: F[K]) => {
      const change: Partial<F> = {};
      change[name] = value;
      edit(change);
    },
  });
  return { draft, edit, applied, apply, replace, bind };
}

export function TextField({
  id,
  label,
  value,
  onChange,
  ...input
}: Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onChange'> & {
  id: string;
  label: ReactNode;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} value={value} onChange={(e) => onChange(e.target.value)} {...input} />
    </div>
  );
}

export function SelectField({
  id,
  label,
  value,
  onChange,
  anyLabel,
  options,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** The first choice, value "": no filter on this field. */
  anyLabel: string;
  options: Record<string, string>;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{anyLabel}</option>
        {Object.entries(options).map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Several values of one field, any of which matches (statuses): one checkbox each. */
export function CheckboxGroup<V extends string>({
  id,
  legend,
  options,
  value: checked,
  onChange,
}: {
  /** The checkboxes' name. */
  id: string;
  legend: string;
  options: readonly { value: V; label: ReactNode }[];
  value: readonly V[];
  onChange: (checked: V[]) => void;
}) {
  return (
    <fieldset className="field">
      <legend className="label">{legend}</legend>
      <div className="actions">
        {options.map(({ value, label }) => (
          <label key={value}>
            <input
              type="checkbox"
              name={id}
              value={value}
              checked={checked.includes(value)}
              onChange={(e) =>
                onChange(e.target.checked ? [...checked, value] : checked.filter((c) => c !== value))
              }
            />{' '}
            {label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** From and to as UTC calendar days, "to" inclusive (lib/format.ts utcDaySpan gives the API span). */
export function DateRangeFields({
  idPrefix,
  value,
  onChange,
}: {
  idPrefix: string;
  value: DateInputs;
  onChange: (change: Partial<DateInputs>) => void;
}) {
  return (
    <>
      <TextField
        id={`${idPrefix}-from`}
        label="From (UTC date)"
        type="date"
        value={value.fromDate}
        onChange={(fromDate) => onChange({ fromDate })}
      />
      <TextField
        id={`${idPrefix}-to`}
        label="To (UTC date, inclusive)"
        type="date"
        value={value.toDate}
        onChange={(toDate) => onChange({ toDate })}
      />
    </>
  );
}
