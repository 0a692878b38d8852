import type { Metadata } from 'next';
import { GeofenceEditor } from './geofence-editor.tsx';

export const metadata: Metadata = { title: 'Fleet — geofences' };

export default function GeofencesPage() {
  const tileUrl = process.env.FLEET_TILE_URL || null;
  const tileAttribution = process.env.FLEET_TILE_ATTRIBUTION || null;
  return (
    <>
      <h1>Geofences</h1>
      <GeofenceEditor tileUrl={tileUrl} tileAttribution={tileAttribution} />
    </>
  );
}
