/**
 * The browser's session cookie, the only cookie the cloud sets (the web app passes it through its
 * same-origin proxy): httpOnly, for the whole site, with `Secure` whenever the public URL is
 * https (FLEET_PUBLIC_URL), so it never travels over plain http there.
 *
 * SameSite is `Strict` for password sign-in and sign-out: no request another site starts carries
 * it. The OpenID Connect callback sets it `Lax`: the identity provider's redirect back to us is a
 * cross-site navigation, and a Strict cookie set on it would not be sent on the redirect to the
 * dashboard that ends the same navigation, so the user would land signed out.
 */
export const SESSION_COOKIE = 'fleet_session';

export interface SessionCookieOptions {
  sameSite: 'Strict' | 'Lax';
  secure: boolean;
}

/** `Set-Cookie` for `token`, kept `maxAgeS` seconds; `null` and 0 delete it (sign-out). */
export function sessionCookie(token: string | null, maxAgeS: number, o: SessionCookieOptions): string {
  return `${SESSION_COOKIE}=${token ?? ''}; Path=/; HttpOnly; SameSite=${o.sameSite}${o.secure ? '; Secure' : ''}; Max-Age=${Math.max(0, Math.floor(maxAgeS))}`;
}
