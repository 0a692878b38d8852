'use client';

import { type FormEvent, useCallback, useMemo, useState } from 'react';
import { DataTable, numeric } from '../../components/data-table.tsx';
import { TextField } from '../../components/filter-bar.tsx';
import { FleetMap, type MapPolygon } from '../../components/fleet-map.tsx';
import { PageMessages } from '../../components/page-messages.tsx';
import { Pager } from '../../components/pager.tsx';
import { UtcTime } from '../../components/utc-time.tsx';
import { useAuthRedirect } from '../../lib/auth-redirect.ts';
import { formatNumber, formatPosition } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { usePagedQuery } from '../../lib/use-query.ts';

type Geofence = Awaited<ReturnType<typeof trpc.geofences.list.query>>['items'][number];
const NO_GEOFENCES: Geofence[] = [];
interface Point {
  lat: number;
  lon: number;
}

export function GeofenceEditor({
  tileUrl,
  tileAttribution,
}: {
  tileUrl: string | null;
  tileAttribution: string | null;
}) {
  const [draft, setDraft] = useState<Point[]>([]);
  const [name, setName] = useState('');
  const [onEnter, setOnEnter] = useState(true);
  const [onExit, setOnExit] = useState(true);
  const [lat, setLat] = useState('');
  const [lon, setLon] = useState('');
  const [message, setMessage] = useState('');
  const [actionError, setError] = useState<string | null>(null);
  const onError = useAuthRedirect(setError);
  const list = usePagedQuery(null, (cursor, signal) =>
    trpc.geofences.list.query({ limit: 200, ...(cursor ? { cursor } : {}) }, { signal }),
  );
  const loaded = useMemo(() => list.pages?.flatMap((p) => p.items), [list.pages]);
  const geofences = loaded ?? NO_GEOFENCES;
  const error = actionError ?? list.error;

  const addPoint = useCallback((p: Point) => {
    setDraft((d) => [...d, p]);
    setMessage(`Added point ${formatPosition(p.lat, p.lon)}.`);
  }, []);

  const addTyped = (e: FormEvent) => {
    e.preventDefault();
    const la = Number(lat);
    const lo = Number(lon);
    if (lat.trim() === '' || !Number.isFinite(la) || la < -90 || la > 90) {
      setError('Latitude must be a number from -90 to 90.');
      return;
    }
    if (lon.trim() === '' || !Number.isFinite(lo) || lo < -180 || lo > 180) {
      setError('Longitude must be a number from -180 to 180.');
      return;
    }
    setError(null);
    addPoint({ lat: la, lon: lo });
    setLat('');
    setLon('');
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const g = await trpc.geofences.create.mutate({
        name: name.trim(),
        polygon: draft,
        alertOnEnter: onEnter,
        alertOnExit: onExit,
      });
      setMessage(`Saved geofence “${g.name}” with ${g.polygon.length} points.`);
      setDraft([]);
      setName('');
      setError(null);
      await list.reload();
    } catch (err) {
      onError(err);
    }
  };

  const remove = async (g: Geofence) => {
    try {
      await trpc.geofences.delete.mutate({ geofenceId: g.id });
      setMessage(`Deleted geofence “${g.name}”.`);
      await list.reload();
    } catch (err) {
      onError(err);
    }
  };

  const polygons = useMemo<MapPolygon[]>(
    () => [
      ...geofences.map((g) => ({ id: String(g.id), name: g.name, points: g.polygon })),
      ...(draft.length > 0
        ? [{ id: 'draft', name: name.trim() || 'New geofence', points: draft, draft: true }]
        : []),
    ],
    [geofences, draft, name],
  );

  return (
    <>
      <PageMessages message={message} error={error} />
      <div className="overview-grid">
        <figure className="map-figure">
          <FleetMap
            label="Map for drawing geofences"
            polygons={polygons}
            onMapClick={addPoint}
            tileUrl={tileUrl}
            tileAttribution={tileAttribution}
          />
          <figcaption>
            Click the map to add a corner of the new geofence, or type coordinates in the form. The list below
            names every geofence.
          </figcaption>
        </figure>

        <section aria-labelledby="draw-heading">
          <h2 id="draw-heading">New geofence</h2>
          <form onSubmit={addTyped} aria-label="Add a corner by coordinates">
            <fieldset className="filters">
              <legend>Add a corner by coordinates</legend>
              <TextField
                id="gf-lat"
                label="Latitude (−90 to 90)"
                inputMode="decimal"
                value={lat}
                onChange={setLat}
              />
              <TextField
                id="gf-lon"
                label="Longitude (−180 to 180)"
                inputMode="decimal"
                value={lon}
                onChange={setLon}
              />
              <button type="submit">Add corner</button>
            </fieldset>
          </form>
          {draft.length === 0 ? (
            <p>No corners yet: a geofence needs at least three.</p>
          ) : (
            <ol className="corner-list" aria-label="Corners of the new geofence">
              {draft.map((p, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: corners are positional.
                <li key={i}>
                  {formatPosition(p.lat, p.lon)}{' '}
                  <button
                    type="button"
                    className="button--secondary"
                    onClick={() => setDraft((d) => d.filter((_, j) => j !== i))}
                  >
                    Remove<span className="visually-hidden"> corner {i + 1}</span>
                  </button>
                </li>
              ))}
            </ol>
          )}
          <form onSubmit={save} aria-label="Save the new geofence">
            <TextField id="gf-name" label="Name" value={name} onChange={setName} maxLength={100} required />
            <p className="actions">
              <label>
                <input type="checkbox" checked={onEnter} onChange={(e) => setOnEnter(e.target.checked)} />{' '}
                Alert when a vehicle enters
              </label>
              <label>
                <input type="checkbox" checked={onExit} onChange={(e) => setOnExit(e.target.checked)} /> Alert
                when a vehicle leaves
              </label>
            </p>
            <div className="actions">
              <button type="submit" disabled={draft.length < 3}>
                Save geofence
              </button>
              <button
                type="button"
                className="button--secondary"
                onClick={() => setDraft([])}
                disabled={draft.length === 0}
              >
                Clear corners
              </button>
            </div>
          </form>
        </section>
      </div>

      <section aria-labelledby="list-heading">
        <h2 id="list-heading">Geofences</h2>
        {!loaded ? null : loaded.length === 0 ? (
          <p>No geofences yet.</p>
        ) : (
          <DataTable
            data-table="geofences"
            caption="Every geofence, with the alerts it raises and the vehicles inside now"
            columns={[
              'Name',
              numeric('Corners'),
              'Alerts on',
              numeric('Vehicles inside'),
              'Created (UTC)',
              'Actions',
            ]}
          >
            {geofences.map((g) => (
              <tr key={g.id} data-geofence={g.name}>
                <th scope="row">{g.name}</th>
                <td className="num">{g.polygon.length}</td>
                <td>
                  {[g.alertOnEnter && 'entry', g.alertOnExit && 'exit'].filter(Boolean).join(' and ') ||
                    'none'}
                </td>
                <td className="num">{formatNumber(g.vehiclesInside)}</td>
                <td>
                  <UtcTime ms={g.createdAt} />
                </td>
                <td>
                  <button type="button" className="button--secondary" onClick={() => void remove(g)}>
                    Delete<span className="visually-hidden"> {g.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
        <Pager hasMore={list.hasMore} onMore={list.more} what="geofences" />
      </section>
    </>
  );
}
