/**
 * The design tokens of the dashboard and the driver PWA: one source for colours, spacing and
 * type. The root layout turns them into CSS custom properties (`--color-text`, `--space-md`, ...)
 * in a nonce'd <style>, so stylesheets and inline SVG (charts, the map) use the same values, and
 * theme.test.ts proves every text pair below reaches WCAG 2.1 AAA contrast (7:1, SC 1.4.6).
 *
 * Add a colour used for text? Add its foreground/background pair to TEXT_PAIRS too.
 */

export const colors = {
  /** Body text and headings. */
  text: '#1a1a1a',
  /** Secondary text: captions, timestamps, hints. */
  textMuted: '#3b3f45',
  bg: '#ffffff',
  /** Zebra rows, table heads, panels. */
  bgAlt: '#f2f4f7',
  headerText: '#ffffff',
  headerBg: '#0b2540',
  /** Links and the primary button background. */
  link: '#0a3d91',
  focus: '#0a3d91',
  buttonText: '#ffffff',
  buttonBg: '#0a3d91',
  /** Positive state: online, resolved, reconciled, a refuel. */
  ok: '#0b5a24',
  /** Negative state: offline, critical, a drain, a mismatch. */
  danger: '#8a1010',
  /** Needs attention: warnings, acknowledged-but-open. */
  warning: '#5c3a00',
  errorText: '#8a1010',
  errorBg: '#fdecec',
  staleText: '#5c3a00',
  staleBg: '#fff4d6',
  infoText: '#0a3d91',
  infoBg: '#e8f0fc',
  okBg: '#e7f4ea',
  /** Borders and grid lines (non-text: 3:1 is enough, SC 1.4.11). */
  rule: '#6b7280',
  /** Charts: the fuel line, the area under it, refuel and drain markers. */
  chartLine: '#0a3d91',
  chartArea: '#dbe6f7',
  chartRefuel: '#0b5a24',
  chartDrain: '#8a1010',
  /** The offline base map. */
  mapWater: '#dde9f5',
  mapLand: '#f7f5ef',
  mapOutline: '#6b7280',
  mapTrack: '#0a3d91',
  mapGeofence: '#5c3a00',
} as const;

export type ColorToken = keyof typeof colors;

export const space = {
  xs: '0.25rem',
  sm: '0.5rem',
  md: '1rem',
  lg: '1.5rem',
  xl: '2.5rem',
} as const;

export const radius = { sm: '0.25rem', md: '0.5rem' } as const;

/** No web fonts: the system stack needs no network (the product runs on closed networks). */
export const fontSystem =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif';

/** 44 px: the AAA target size (SC 2.5.5) for buttons and links that stand alone. */
export const minTarget = '44px';

/** Every foreground/background pair that carries text somewhere in web/. */
export const TEXT_PAIRS: ReadonlyArray<readonly [fg: ColorToken, bg: ColorToken]> = [
  ['text', 'bg'],
  ['text', 'bgAlt'],
  ['text', 'chartArea'],
  ['text', 'mapLand'],
  ['text', 'mapWater'],
  ['textMuted', 'bg'],
  ['textMuted', 'bgAlt'],
  ['headerText', 'headerBg'],
  ['link', 'bg'],
  ['link', 'bgAlt'],
  ['buttonText', 'buttonBg'],
  ['ok', 'bg'],
  ['ok', 'bgAlt'],
  ['ok', 'okBg'],
  ['danger', 'bg'],
  ['danger', 'bgAlt'],
  ['warning', 'bg'],
  ['warning', 'bgAlt'],
  ['errorText', 'errorBg'],
  ['staleText', 'staleBg'],
  ['infoText', 'infoBg'],
  ['chartRefuel', 'bg'],
  ['chartDrain', 'bg'],
  ['mapGeofence', 'mapLand'],
];

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `:root { --color-text: ...; ... }` for the root layout's <style>. */
export function themeCss(): string {
  const lines = [
    ...Object.entries(colors).map(([k, v]) => `--color-${kebab(k)}:${v}`),
    ...Object.entries(space).map(([k, v]) => `--space-${k}:${v}`),
    ...Object.entries(radius).map(([k, v]) => `--radius-${k}:${v}`),
    `--font-system:${fontSystem}`,
    `--min-target:${minTarget}`,
  ];
  return `:root{color-scheme:light;${lines.join(';')}}`;
}

/** WCAG 2.x relative luminance of a #rrggbb colour. */
export function relativeLuminance(hex: string): number {
  const match = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!match?.[1]) throw new Error(`not a #rrggbb colour: ${hex}`);
  const n = Number.parseInt(match[1], 16);
  const channel = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel((n >> 16) & 255) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255);
}

/** WCAG contrast ratio (1..21) between two #rrggbb colours, order-independent. */
export function contrastRatio(a: string, b: string): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}
