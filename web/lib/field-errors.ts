/**
 * The API's refusal of a form, by field: a tRPC input error carries zod's flattened issues
 * (`data.zodError.fieldErrors`, cloud/src/api/trpc.ts); anything else is one message for the form.
 */
import { TRPCClientError } from '@trpc/client';

export interface FormErrors {
  /** First message per top-level input field. */
  fields: Record<string, string>;
  /** What is not about one field (a conflict, a missing group, the network). */
  form: string | null;
}

export function formErrorsOf(error: unknown): FormErrors {
  if (error instanceof TRPCClientError) {
    const zod = (
      error.data as
        | { zodError?: { fieldErrors?: Record<string, string[]>; formErrors?: string[] } }
        | undefined
    )?.zodError;
    if (zod?.fieldErrors) {
      const fields = Object.fromEntries(
        Object.entries(zod.fieldErrors).flatMap(([k, v]) => (v?.[0] ? [[k, v[0]] as const] : [])),
      );
      return { fields, form: zod.formErrors?.[0] ?? (Object.keys(fields).length ? null : error.message) };
    }
  }
  return { fields: {}, form: error instanceof Error ? error.message : 'Unknown error.' };
}
