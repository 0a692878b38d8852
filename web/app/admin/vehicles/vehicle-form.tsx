'use client';

/**
 * Create or edit one vehicle of the register (registry.create / registry.update). Every field has
 * its label and, when refused, its error beside it (the API's zod errors by field, and the
 * calibration table's by row before anything is sent).
 */
import { type CalibrationPoint, calibrationProblems } from '@fleet/shared';
import { type FormEvent, useMemo, useState } from 'react';
import { ChoiceField, InputField } from '../../../components/form-field.tsx';
import { useAuthRedirect } from '../../../lib/auth-redirect.ts';
import { formErrorsOf } from '../../../lib/field-errors.ts';
import { trpc } from '../../../lib/trpc.ts';
import { useQuery } from '../../../lib/use-query.ts';
import { CalibrationEditor, type CalibrationRow } from './calibration-editor.tsx';

export type VehicleRecord = Awaited<ReturnType<typeof trpc.registry.get.query>>;
type FuelType = NonNullable<VehicleRecord['fuelType']>;

const FUEL_TYPES: readonly (readonly [string, string])[] = [
  ['', 'Not set'],
  ['diesel', 'Diesel'],
  ['petrol', 'Petrol'],
  ['lpg', 'LPG'],
  ['cng', 'CNG'],
  ['electric', 'Electric'],
  ['hybrid', 'Hybrid'],
];

interface Draft {
  id: string;
  plate: string;
  vin: string;
  make: string;
  model: string;
  year: string;
  fuelType: string;
  vehicleClass: string;
  tankLitres: string;
  odometerOffsetKm: string;
  groupId: string;
  costCentre: string;
  monthlyFuelBudget: string;
}

const text = (v: string | number | null | undefined) => (v === null || v === undefined ? '' : String(v));

function draftOf(v: VehicleRecord | null): Draft {
  return {
    id: v?.id ?? '',
    plate: text(v?.plate),
    vin: text(v?.vin),
    make: text(v?.make),
    model: text(v?.model),
    year: text(v?.year),
    fuelType: text(v?.fuelType),
    vehicleClass: text(v?.vehicleClass),
    tankLitres: text(v?.tankLitres),
    odometerOffsetKm: v ? text(v.odometerOffsetKm) : '0',
    groupId: text(v?.groupId),
    costCentre: text(v?.costCentre),
    monthlyFuelBudget: text(v?.monthlyFuelBudget),
  };
}

/** A number typed in a field: undefined when empty, NaN when not a number (refused below). */
const num = (s: string) => (s.trim() === '' ? undefined : Number(s.trim()));

export function VehicleForm({
  vehicle,
  onSaved,
}: {
  vehicle: VehicleRecord | null;
  onSaved: (v: VehicleRecord) => void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(vehicle));
  const [rows, setRows] = useState<CalibrationRow[]>(
    () => vehicle?.calibration?.map((p) => ({ pct: String(p.pct), litres: String(p.litres) })) ?? [],
  );
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const onError = useAuthRedirect(setFormError);
  const groups = useQuery(null, (signal) => trpc.groups.list.query(undefined, { signal }));

  const table: CalibrationPoint[] = useMemo(
    () => rows.map((r) => ({ pct: num(r.pct) ?? Number.NaN, litres: num(r.litres) ?? Number.NaN })),
    [rows],
  );
  const tank = num(draft.tankLitres);
  const problems = useMemo(
    () =>
      rows.length
        ? calibrationProblems(table, tank !== undefined && Number.isFinite(tank) ? tank : null)
        : [],
    [rows.length, table, tank],
  );

  const bind = (name: keyof Draft) => ({
    id: `vehicle-${name}`,
    value: draft[name],
    onChange: (value: string) => setDraft((d) => ({ ...d, [name]: value })),
    error: errors[name] ?? null,
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const local: Record<string, string> = {};
    const numbers = {
      year: draft.year,
      tankLitres: draft.tankLitres,
      odometerOffsetKm: draft.odometerOffsetKm,
      monthlyFuelBudget: draft.monthlyFuelBudget,
    };
    for (const [k, v] of Object.entries(numbers))
      if (v.trim() !== '' && !Number.isFinite(Number(v))) local[k] = 'Enter a number.';
    if (!draft.plate.trim() && !draft.vin.trim()) local.plate = 'Enter a plate or a VIN.';
    if (draft.vin.trim() && !/^[A-HJ-NPR-Z0-9]{17}$/i.test(draft.vin.trim()))
      local.vin = 'A VIN is 17 letters and digits, without I, O or Q.';
    if (Object.keys(local).length || problems.length) {
      setErrors(local);
      setFormError('Some fields need attention: see the messages beside them.');
      return;
    }
    const fields = {
      plate: draft.plate.trim() || null,
      vin: draft.vin.trim() || null,
      make: draft.make.trim() || null,
      model: draft.model.trim() || null,
      year: num(draft.year) ?? null,
      fuelType: (draft.fuelType || null) as FuelType | null,
      vehicleClass: draft.vehicleClass.trim() || null,
      tankLitres: tank ?? null,
      calibration: rows.length ? table : null,
      odometerOffsetKm: num(draft.odometerOffsetKm) ?? 0,
      groupId: num(draft.groupId) ?? null,
      costCentre: draft.costCentre.trim() || null,
      monthlyFuelBudget: num(draft.monthlyFuelBudget) ?? null,
    };
    setBusy(true);
    try {
      const saved = vehicle
        ? await trpc.registry.update.mutate({ vehicleId: vehicle.id, ...fields })
        : await trpc.registry.create.mutate({
            ...fields,
            ...(draft.id.trim() ? { id: draft.id.trim() } : {}),
          });
      setErrors({});
      setFormError(null);
      onSaved(saved);
    } catch (err) {
      const f = formErrorsOf(err);
      setErrors(f.fields);
      if (f.form) onError(err);
      else setFormError('Some fields need attention: see the messages beside them.');
    } finally {
      setBusy(false);
    }
  };

  const groupOptions: (readonly [string, string])[] = [
    ['', 'No group'],
    ...(groups.data ?? []).map((g) => [String(g.id), g.name] as const),
  ];
  return (
    <form onSubmit={submit} noValidate aria-label={vehicle ? `Edit vehicle ${vehicle.id}` : 'New vehicle'}>
      {formError ? (
        <div className="error-summary" role="alert">
          <p>{formError}</p>
        </div>
      ) : null}
      <fieldset className="register-form">
        <legend>Identity</legend>
        {vehicle ? null : (
          <InputField
            {...bind('id')}
            label="Vehicle id (optional)"
            hint="The id its agent signs in with; made up when left empty."
            autoComplete="off"
            maxLength={64}
          />
        )}
        <InputField {...bind('plate')} label="Plate" autoComplete="off" maxLength={20} />
        <InputField
          {...bind('vin')}
          label="VIN"
          hint="17 characters, no I, O or Q."
          autoComplete="off"
          maxLength={17}
        />
        <InputField {...bind('make')} label="Make" autoComplete="off" maxLength={60} />
        <InputField {...bind('model')} label="Model" autoComplete="off" maxLength={60} />
        <InputField {...bind('year')} label="Year" inputMode="numeric" autoComplete="off" />
        <ChoiceField {...bind('fuelType')} label="Fuel type" options={FUEL_TYPES} />
        <InputField {...bind('vehicleClass')} label="Vehicle class" autoComplete="off" maxLength={60} />
      </fieldset>
      <fieldset className="register-form">
        <legend>Tank and odometer</legend>
        <InputField
          {...bind('tankLitres')}
          label="Tank capacity (litres)"
          inputMode="decimal"
          autoComplete="off"
        />
        <InputField
          {...bind('odometerOffsetKm')}
          label="Odometer offset (km)"
          hint="Added to the distance the vehicle reports."
          inputMode="decimal"
          autoComplete="off"
        />
        <CalibrationEditor
          rows={rows}
          onChange={setRows}
          problems={problems}
          error={errors.calibration ?? null}
        />
      </fieldset>
      <fieldset className="register-form">
        <legend>Organisation</legend>
        <ChoiceField {...bind('groupId')} label="Group" options={groupOptions} />
        <InputField {...bind('costCentre')} label="Cost centre" autoComplete="off" maxLength={60} />
        <InputField
          {...bind('monthlyFuelBudget')}
          label="Monthly fuel budget"
          inputMode="decimal"
          autoComplete="off"
        />
        <p className="actions">
          <button type="submit" aria-busy={busy}>
            {vehicle ? 'Save changes' : 'Add vehicle'}
          </button>
        </p>
      </fieldset>
    </form>
  );
}
