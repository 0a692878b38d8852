/** What a page says to a role it is not for (the API refuses it anyway: FORBIDDEN). */
export function NotAllowed({ what }: { what: string }) {
  return (
    <p className="error-text" role="alert">
      Not allowed: your role cannot see {what}. Ask an administrator if you need it.
    </p>
  );
}
