/**
 * A page's outcome line and its error: the outcome in a polite live region (announced without
 * moving focus), the error as an alert. Every page that acts (saves, deletes, redelivers) shows
 * both the same way.
 */
export function PageMessages({ message, error }: { message?: string | null; error?: string | null }) {
  return (
    <>
      <div role="status" aria-live="polite">
        {message && <p className="notice">{message}</p>}
      </div>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
