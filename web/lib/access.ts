'use client';

import { trpc } from './trpc.ts';
import { useQuery } from './use-query.ts';

/**
 * Which roles the administration pages are for: what the navigation shows and what a page says
 * before asking. Display only: the API decides (cloud/src/auth/permissions.ts, users:manage and
 * devices:read, tokens:personal), and a page also says "not allowed" when the API answers FORBIDDEN.
 */
export const ADMIN_SECTIONS = {
  '/admin/users': ['admin'],
  '/admin/devices': ['admin', 'fleet_manager', 'technician'],
  // tokens:personal: everyone but drivers (they use the PWA only).
  '/tokens': ['admin', 'fleet_manager', 'finance', 'compliance', 'technician'],
} as const satisfies Record<string, readonly string[]>;
export type AdminSection = keyof typeof ADMIN_SECTIONS;

export function allowedTo(role: string | null | undefined, section: AdminSection): boolean {
  return !!role && (ADMIN_SECTIONS[section] as readonly string[]).includes(role);
}

/** The signed-in user (null until known; `error` when not signed in or unreachable). */
export function useMe() {
  return useQuery(null, (signal) => trpc.auth.me.query(undefined, { signal }));
}
