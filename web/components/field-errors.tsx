/**
 * A form's per-field errors (from `formErrorsOf`, web/lib/field-errors.ts) wired to its inputs:
 * `invalid(name)` marks the input and points it at its message, `fieldError(name)` renders that
 * message, so a screen reader reads the reason with the field (axe: aria-describedby).
 */
export function fieldErrorBindings(errors: Readonly<Record<string, string>>, idPrefix: string) {
  const errorId = (name: string) => `${idPrefix}${name}-error`;
  return {
    invalid: (name: string) => ({
      'aria-invalid': errors[name] ? true : undefined,
      'aria-describedby': errors[name] ? errorId(name) : undefined,
    }),
    fieldError: (name: string) =>
      errors[name] ? (
        <span id={errorId(name)} className="field-error">
          {errors[name]}
        </span>
      ) : null,
  };
}
