/** A tank gauge beside the number (decoration: the number is the information, so aria-hidden). */
export function FuelMeter({ pct }: { pct: number | null }) {
  if (pct === null || !Number.isFinite(pct)) return null;
  const width = Math.max(0, Math.min(100, pct));
  return (
    <svg
      className="fuel-meter"
      viewBox="0 0 100 10"
      preserveAspectRatio="none"
      aria-hidden="true"
      focusable="false"
    >
      <rect x="0" y="0" width={width} height="10" />
    </svg>
  );
}
