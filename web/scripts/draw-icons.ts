/**
 * Draws the driver PWA's icons (public/icons/*.png) from one SVG: a fuel pump in the theme's
 * header colours. Run after changing the drawing or the tokens, and commit the PNGs:
 *
 *   cd web && node --import tsx scripts/draw-icons.ts
 *
 * "any" icons have rounded corners; "maskable" ones fill the square and keep the pump inside
 * the central 80 % circle that every launcher's mask leaves visible.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { colors } from '../lib/theme.ts';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');

/** The pump on a 100 x 100 canvas, scaled by `scale` around the centre. */
function pump(scale: number): string {
  const fg = colors.headerText;
  return `<g transform="translate(50 50) scale(${scale}) translate(-50 -50)" fill="${fg}" stroke="${fg}">
    <rect x="22" y="18" width="36" height="66" rx="5" stroke="none"/>
    <rect x="29" y="26" width="22" height="16" rx="2" fill="${colors.headerBg}" stroke="none"/>
    <rect x="16" y="80" width="48" height="8" rx="2" stroke="none"/>
    <path d="M58 36 h8 a6 6 0 0 1 6 6 v26 a5 5 0 0 0 10 0 v-30 l-8 -10" fill="none" stroke-width="5" stroke-linecap="round" stroke-linejoin="round"/>
  </g>`;
}

function svg(kind: 'any' | 'maskable'): string {
  const background =
    kind === 'any'
      ? `<rect width="100" height="100" rx="18" fill="${colors.headerBg}"/>`
      : `<rect width="100" height="100" fill="${colors.headerBg}"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">${background}${pump(kind === 'any' ? 0.86 : 0.66)}</svg>`;
}

mkdirSync(OUT, { recursive: true });
for (const kind of ['any', 'maskable'] as const) {
  for (const size of [192, 512]) {
    const file = path.join(OUT, `${kind === 'any' ? 'icon' : 'maskable'}-${size}.png`);
    await sharp(Buffer.from(svg(kind)), { density: (72 * size) / 100 })
      .resize(size, size)
      .png({ compressionLevel: 9 })
      .toFile(file);
    process.stdout.write(`${file}\n`);
  }
}
