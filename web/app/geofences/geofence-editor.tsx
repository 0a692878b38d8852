'use client';

import { type FormEvent, useCallback, useEffect, useMemo, useState } from 'react';
import { FleetMap, type MapPolygon } from '../../components/fleet-map.tsx';
import { formatDateTime } from '../../components/fuel-chart.tsx';
import { useAuthRedirect } from '../../lib/auth-redirect.ts';
import { formatNumber, formatPosition } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';

type Geofence = Awaited<ReturnType<typeof trpc.geofences.list.query>>['items'][number];
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
  const [geofences, setGeofences] = useState<Geofence[]>([]);
  const [draft, setDraft] = useState<Point[]>([]);
  const [name, setName] = useState('');
  const [onEnter, setOnEnter] = useState(true);
  const [onExit, setOnExit] = useState(true);
  const [lat, setLat] = useState('');
  const [lon, setLon] = useState('');
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | null>(null);
  const onError = useAuthRedirect(setError);

  const load = useCallback(() => {
    trpc.geofences.list.query({ limit: 200 }).then((page) => setGeofences(page.items), onError);
  }, [onError]);
  useEffect(load, [load]);

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
      load();
    } catch (err) {
      onError(err);
    }
  };

  const remove = async (g: Geofence) => {
    try {
      await trpc.geofences.delete.mutate({ geofenceId: g.id });
      setMessage(`Deleted geofence “${g.name}”.`);
      load();
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
      <div role="status" aria-live="polite">
        {message && <p className="notice">{message}</p>}
      </div>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
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
              <div className="field">
                <label htmlFor="gf-lat">Latitude (−90 to 90)</label>
                <input id="gf-lat" inputMode="decimal" value={lat} onChange={(e) => setLat(e.target.value)} />
              </div>
              <div className="field">
                <label htmlFor="gf-lon">Longitude (−180 to 180)</label>
                <input id="gf-lon" inputMode="decimal" value={lon} onChange={(e) => setLon(e.target.value)} />
              </div>
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
            <div className="field">
              <label htmlFor="gf-name">Name</label>
              <input
                id="gf-name"
                value={name}
                onChange={(e) => setName(e.target.value)}
                maxLength={100}
                required
              />
            </div>
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
        {geofences.length === 0 ? (
          <p>No geofences yet.</p>
        ) : (
          <div className="table-scroll">
            <table className="data-table" data-table="geofences">
              <caption>Every geofence, with the alerts it raises and the vehicles inside now</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" className="num">
                    Corners
                  </th>
                  <th scope="col">Alerts on</th>
                  <th scope="col" className="num">
                    Vehicles inside
                  </th>
                  <th scope="col">Created (UTC)</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {geofences.map((g) => (
                  <tr key={g.id} data-geofence={g.name}>
                    <th scope="row">{g.name}</th>
                    <td className="num">{g.polygon.length}</td>
                    <td>
                      {[g.alertOnEnter && 'entry', g.alertOnExit && 'exit'].filter(Boolean).join(' and ') ||
                        'none'}
                    </td>
                    <td className="num">{formatNumber(g.vehiclesInside)}</td>
                    <td>{formatDateTime(g.createdAt)}</td>
                    <td>
                      <button type="button" className="button--secondary" onClick={() => void remove(g)}>
                        Delete<span className="visually-hidden"> {g.name}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
