/** IFTA's fuel types (the rate matrix's columns) and how the register's and fuel cards' names map. */
export const IFTA_FUEL_TYPES = [
  'gasoline',
  'diesel',
  'gasohol',
  'propane',
  'lng',
  'cng',
  'ethanol',
  'methanol',
  'e85',
  'm85',
  'a55',
  'biodiesel',
] as const;
export type IftaFuelType = (typeof IFTA_FUEL_TYPES)[number];

/** Rate-matrix column headings (folded: lower case, no accents) → fuel type. */
export const IFTA_FUEL_BY_COLUMN: Readonly<Record<string, IftaFuelType>> = {
  gasoline: 'gasoline',
  'special diesel': 'diesel',
  diesel: 'diesel',
  gasohol: 'gasohol',
  propane: 'propane',
  lng: 'lng',
  cng: 'cng',
  ethanol: 'ethanol',
  methanol: 'methanol',
  'e-85': 'e85',
  e85: 'e85',
  'm-85': 'm85',
  m85: 'm85',
  a55: 'a55',
  biodiesel: 'biodiesel',
};

/**
 * The register's `vehicles.fuel_type` and fuel-card product names → IFTA fuel type; null for
 * what IFTA does not tax as motor fuel here (electric) or a name not recognised.
 */
export function iftaFuelType(name: string | null | undefined): IftaFuelType | null {
  if (!name) return null;
  const n = name.trim().toLowerCase();
  if (/diesel|^dsl|ulsd|^d$/.test(n)) return n.includes('bio') ? 'biodiesel' : 'diesel';
  if (/petrol|gasoline|unleaded|^gas$|^g$|regular|premium/.test(n)) return 'gasoline';
  if (/lpg|propane/.test(n)) return 'propane';
  if (n === 'cng') return 'cng';
  if (n === 'lng') return 'lng';
  if (/e-?85/.test(n)) return 'e85';
  return (IFTA_FUEL_TYPES as readonly string[]).includes(n) ? (n as IftaFuelType) : null;
}
