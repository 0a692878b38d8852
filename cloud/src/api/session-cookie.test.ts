import { describe, expect, it } from 'vitest';
import { sessionCookie } from './session-cookie.ts';

describe('sessionCookie', () => {
  it('httpOnly for the whole site, with the SameSite asked for, Secure only when served over https', () => {
    expect(sessionCookie('abc', 43_200.9, { sameSite: 'Strict', secure: false })).toBe(
      'fleet_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200',
    );
    expect(sessionCookie('abc', 60, { sameSite: 'Lax', secure: true })).toBe(
      'fleet_session=abc; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=60',
    );
  });

  it('deletes the cookie with an empty value and Max-Age=0 (never a negative age)', () => {
    expect(sessionCookie(null, 0, { sameSite: 'Strict', secure: true })).toBe(
      'fleet_session=; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0',
    );
    expect(sessionCookie('abc', -5, { sameSite: 'Strict', secure: false })).toMatch(/Max-Age=0$/);
  });
});
