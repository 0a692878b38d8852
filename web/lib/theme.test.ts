import { describe, expect, it } from 'vitest';
import { colors, contrastRatio, relativeLuminance, TEXT_PAIRS, themeCss } from './theme.ts';

describe('contrastRatio', () => {
  it('matches the WCAG reference values', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
    // #777777 on white is the classic "just under 4.5:1" grey.
    expect(contrastRatio('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
    expect(contrastRatio('#ffffff', '#777777')).toBe(contrastRatio('#777777', '#ffffff'));
  });

  it('rejects a colour it cannot read', () => {
    expect(() => relativeLuminance('red')).toThrow(/#rrggbb/);
    expect(() => relativeLuminance('#fff')).toThrow(/#rrggbb/);
  });
});

describe('theme tokens', () => {
  it.each(TEXT_PAIRS.map(([fg, bg]) => [fg, bg, contrastRatio(colors[fg], colors[bg])] as const))(
    '%s on %s reaches 7:1 (WCAG 2.1 AAA, 1.4.6): %f',
    (_fg, _bg, ratio) => {
      expect(ratio).toBeGreaterThanOrEqual(7);
    },
  );

  it('lists every text colour in a pair', () => {
    // A token named like a text colour but never checked would slip past the test above.
    const checked = new Set(TEXT_PAIRS.map(([fg]) => fg));
    const textLike = Object.keys(colors).filter((k) => /Text$|^text|^link$|^ok$|^danger$|^warning$/.test(k));
    for (const token of textLike) expect(checked, token).toContain(token);
  });

  it('renders every token as a CSS custom property', () => {
    const css = themeCss();
    expect(css).toContain('--color-text:#1a1a1a');
    expect(css).toContain('--color-header-bg:#0b2540');
    expect(css).toContain('--space-md:1rem');
    for (const value of Object.values(colors)) expect(css).toContain(value);
  });
});
