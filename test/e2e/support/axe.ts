/**
 * axe-core through @axe-core/playwright with the WCAG 2.1 AAA rules switched on, shared by the
 * dashboard and driver PWA e2e tests. Every page a test visits goes through `expectNoAxeViolations`
 * so a regression names the rule, the element and axe's help text in the failure message.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/** WCAG 2.0/2.1 at A, AA and AAA, plus axe's best practices (landmarks, headings, regions). */
export const AXE_TAGS = [
  'wcag2a',
  'wcag2aa',
  'wcag2aaa',
  'wcag21a',
  'wcag21aa',
  'wcag21aaa',
  'best-practice',
];

export interface AxeViolationSummary {
  id: string;
  impact: string | null | undefined;
  help: string;
  nodes: string[];
}

/** Runs axe on the page as it is now; returns the violations in a short, readable form. */
export async function axeViolations(page: Page, options: { exclude?: string[] } = {}) {
  let builder = new AxeBuilder({ page }).withTags(AXE_TAGS);
  for (const selector of options.exclude ?? []) builder = builder.exclude(selector);
  const result = await builder.analyze();
  return result.violations.map(
    (v): AxeViolationSummary => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} — ${n.failureSummary ?? ''}`),
    }),
  );
}

/**
 * Throws when axe finds any violation. `what` names the page state in the message
 * ("fleet overview", "driver home offline"). Exclusions must be justified at the call site.
 */
export async function expectNoAxeViolations(page: Page, what: string, options: { exclude?: string[] } = {}) {
  const violations = await axeViolations(page, options);
  if (violations.length > 0) {
    throw new Error(
      `axe: ${violations.length} violation(s) on ${what}:\n${JSON.stringify(violations, null, 2)}`,
    );
  }
}
