import { describe, expect, it } from 'vitest';
import { afterSignIn } from './auth-redirect.ts';

describe('afterSignIn', () => {
  it('returns to the page of this site that sent to the sign-in', () => {
    expect(afterSignIn('fleet_manager', '/alerts?alert=42')).toBe('/alerts?alert=42');
    expect(afterSignIn('admin', null)).toBe('/');
  });

  it('never leaves the site: other origins and scheme tricks go home', () => {
    for (const next of ['https://evil.test/x', '//evil.test/x', '/\\evil.test', 'javascript:alert(1)', ''])
      expect(afterSignIn('admin', next)).toBe('/');
  });

  it('keeps drivers in their app', () => {
    expect(afterSignIn('driver', '/alerts?alert=42')).toBe('/driver');
    expect(afterSignIn('driver', '/driver?tab=refuel')).toBe('/driver?tab=refuel');
    expect(afterSignIn('driver', null)).toBe('/driver');
  });
});
