'use client';

/**
 * The dashboard's map (Leaflet, SVG renderer: no WebGL, nothing but DOM and SVG, so it runs under
 * the strict CSP and in headless Chromium). The base layer works with no tile server: Natural
 * Earth country outlines and the demo routes' streets shipped in web/public/basemap (see
 * web/scripts/build-base-map.ts) over a plain lat/lon grid. A production tile server is
 * configuration: FLEET_TILE_URL (read by the server page and passed in as `tileUrl`).
 *
 * The map is a picture of data that is also in a table next to it (the fleet table, the geofence
 * list), so nothing on it is reachable only by pointer; drawing a geofence has a coordinate form.
 */
import type * as Leaflet from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { useEffect, useRef } from 'react';
import { afterLoadWhenIdle, inSlices, yieldToMain } from '../lib/idle.ts';
import { colors } from '../lib/theme.ts';

export interface MapVehicle {
  vehicleId: string;
  lat: number;
  lon: number;
  /** Words, shown in the label: the status is never told by colour alone. */
  statusLabel: string;
  moving: boolean;
}

export interface MapPolygon {
  id: string;
  name: string;
  points: ReadonlyArray<{ lat: number; lon: number }>;
  draft?: boolean;
}

export interface FleetMapProps {
  /** Accessible name of the map region. */
  label: string;
  vehicles?: readonly MapVehicle[];
  polygons?: readonly MapPolygon[];
  /** Called with the clicked position (geofence drawing). */
  onMapClick?: (point: { lat: number; lon: number }) => void;
  /** Tile URL template ({z}/{x}/{y}); without it, the bundled offline base map only. */
  tileUrl?: string | null;
  tileAttribution?: string | null;
}

function prefersReducedMotion(): boolean {
  return window.matchMedia('(prefers-reduced-motion: reduce)').matches;
}

/** Grid lines every `step` degrees: the base map's frame of reference at any zoom. */
function graticule(L: typeof Leaflet, step: number): Leaflet.LayerGroup {
  const lines: Leaflet.Polyline[] = [];
  const style = {
    color: colors.mapOutline,
    weight: 0.5,
    opacity: 0.6,
    interactive: false,
    dashArray: '2 4',
    pane: 'basemap',
  };
  for (let lat = -80; lat <= 80; lat += step)
    lines.push(
      L.polyline(
        [
          [lat, -180],
          [lat, 180],
        ],
        style,
      ),
    );
  for (let lon = -180; lon <= 180; lon += step)
    lines.push(
      L.polyline(
        [
          [-85, lon],
          [85, lon],
        ],
        style,
      ),
    );
  return L.layerGroup(lines);
}

async function loadGeoJson(url: string): Promise<GeoJSON.FeatureCollection | null> {
  try {
    const res = await fetch(url);
    return res.ok ? ((await res.json()) as GeoJSON.FeatureCollection) : null;
  } catch {
    return null; // The base map is decoration; the data layers work without it.
  }
}

/**
 * Country outlines and the demo streets, added in slices of a few milliseconds each, so that no
 * single task blocks the main thread for long (the page stays responsive while the base map draws).
 */
async function loadBaseMap(L: typeof Leaflet, map: Leaflet.Map, disposed: () => boolean) {
  const [countries, streets] = await Promise.all([
    loadGeoJson('/basemap/countries.geojson'),
    loadGeoJson('/basemap/streets.geojson'),
  ]);
  const layers: Array<[GeoJSON.FeatureCollection | null, Leaflet.PathOptions]> = [
    [countries, { color: colors.mapOutline, weight: 1, fillColor: colors.mapLand, fillOpacity: 1 }],
    [streets, { color: colors.mapOutline, weight: 3, opacity: 0.7 }],
  ];
  for (const [collection, style] of layers) {
    if (!collection || disposed()) continue;
    const layer = L.geoJSON(undefined, { interactive: false, pane: 'basemap', style }).addTo(map);
    const features = collection.features;
    await inSlices(features.length, (i) => layer.addData(features[i]!), disposed, 4);
  }
}

export function FleetMap({
  label,
  vehicles = [],
  polygons = [],
  onMapClick,
  tileUrl,
  tileAttribution,
}: FleetMapProps) {
  const container = useRef<HTMLElement>(null);
  const state = useRef<{
    L: typeof Leaflet;
    map: Leaflet.Map;
    vehicles: Leaflet.LayerGroup;
    polygons: Leaflet.LayerGroup;
    /** One marker per vehicle, moved in place on each update (no re-creation per second). */
    markers: Map<string, Leaflet.CircleMarker>;
    fitted: boolean;
  } | null>(null);
  const clickRef = useRef(onMapClick);
  clickRef.current = onMapClick;
  // The latest props, for the first draw once Leaflet has loaded.
  const latest = useRef({ vehicles, polygons });
  latest.current = { vehicles, polygons };

  // biome-ignore lint/correctness/useExhaustiveDependencies: created once per tile setting; data layers update below.
  useEffect(() => {
    let disposed = false;
    let map: Leaflet.Map | undefined;
    const abort = new AbortController();
    void (async () => {
      // The map is a picture of data the page also shows as text: Leaflet (its largest script)
      // loads once the page has loaded and the main thread is idle, not during hydration. The
      // map's box is reserved by CSS meanwhile, so nothing shifts when it appears.
      if (!(await afterLoadWhenIdle(abort.signal))) return;
      const L = (await import('leaflet')).default;
      if (disposed || !container.current) return;
      // Evaluating Leaflet was one task; creating the map is the next.
      await yieldToMain();
      if (disposed || !container.current) return;
      const still = prefersReducedMotion();
      map = L.map(container.current, {
        center: [20, 0],
        zoom: 2,
        minZoom: 1,
        worldCopyJump: true,
        attributionControl: Boolean(tileUrl),
        zoomAnimation: !still,
        fadeAnimation: !still,
        markerZoomAnimation: !still,
        inertia: !still,
      });
      const polygonLayer = L.layerGroup().addTo(map);
      const vehicleLayer = L.layerGroup().addTo(map);
      map.on('click', (e: Leaflet.LeafletMouseEvent) =>
        clickRef.current?.({ lat: e.latlng.lat, lon: e.latlng.lng }),
      );
      // The base map has a pane of its own under the data (overlayPane is at z-index 400).
      const basePane = map.createPane('basemap');
      basePane.style.zIndex = '350';
      if (tileUrl) L.tileLayer(tileUrl, { attribution: tileAttribution ?? '', maxZoom: 19 }).addTo(map);
      state.current = {
        L,
        map,
        vehicles: vehicleLayer,
        polygons: polygonLayer,
        markers: new Map(),
        fitted: false,
      };
      // One step per task from here: the data (zoomed to the fleet), then the grid, then the
      // base map, each drawn once at the zoom it will be seen at.
      await yieldToMain();
      if (disposed) return;
      drawVehicles(latest.current.vehicles);
      drawPolygons(latest.current.polygons);
      if (tileUrl) return;
      await yieldToMain();
      if (disposed) return;
      graticule(L, 10).addTo(map);
      await yieldToMain();
      if (!disposed) await loadBaseMap(L, map, () => disposed);
    })();
    return () => {
      disposed = true;
      abort.abort();
      state.current = null;
      map?.remove();
    };
  }, [tileUrl, tileAttribution]);

  function drawVehicles(list: readonly MapVehicle[]) {
    const s = state.current;
    if (!s) return;
    // Zoom to the fleet before placing the markers: each permanent label measures itself when
    // placed (a forced layout), and would do so again after a zoom.
    if (!s.fitted && list.length > 0) {
      s.fitted = true;
      s.map.fitBounds(s.L.latLngBounds(list.map((v) => [v.lat, v.lon] as [number, number])).pad(0.3), {
        maxZoom: 15,
        animate: false,
      });
    }
    const seen = new Set<string>();
    for (const v of list) {
      seen.add(v.vehicleId);
      const label = `${v.vehicleId} · ${v.statusLabel}`;
      // Moving: filled circle; stopped: hollow ring. The label says it in words as well.
      const style = {
        radius: 8,
        color: colors.text,
        weight: 2,
        fillColor: v.moving ? colors.chartLine : colors.bg,
        fillOpacity: 1,
      };
      const marker = s.markers.get(v.vehicleId);
      if (marker) {
        marker.setLatLng([v.lat, v.lon]);
        marker.setStyle(style);
        if (marker.getTooltip()?.getContent() !== label) marker.setTooltipContent(label);
        continue;
      }
      const created = s.L.circleMarker([v.lat, v.lon], style)
        .bindTooltip(label, {
          permanent: true,
          direction: 'right',
          offset: [10, 0],
          className: 'map-vehicle-label',
        })
        .addTo(s.vehicles);
      s.markers.set(v.vehicleId, created);
    }
    for (const [id, marker] of s.markers) {
      if (!seen.has(id)) {
        marker.remove();
        s.markers.delete(id);
      }
    }
  }

  function drawPolygons(list: readonly MapPolygon[]) {
    const s = state.current;
    if (!s) return;
    s.polygons.clearLayers();
    for (const p of list) {
      const latlngs = p.points.map((pt) => [pt.lat, pt.lon] as [number, number]);
      const style = {
        color: colors.mapGeofence,
        weight: 2,
        dashArray: p.draft ? '6 4' : undefined,
        fillOpacity: 0.1,
        interactive: false,
      };
      if (latlngs.length >= 3) s.L.polygon(latlngs, style).addTo(s.polygons);
      else if (latlngs.length === 2) s.L.polyline(latlngs, style).addTo(s.polygons);
      for (const ll of latlngs)
        s.L.circleMarker(ll, { radius: 4, color: colors.mapGeofence, interactive: false }).addTo(s.polygons);
      if (latlngs.length > 0)
        s.L.tooltip({ permanent: true, direction: 'top', className: 'map-vehicle-label' })
          .setLatLng(latlngs[0]!)
          .setContent(p.draft ? `${p.name} (draft)` : p.name)
          .addTo(s.polygons);
    }
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: draw functions read the refs.
  useEffect(() => drawVehicles(vehicles), [vehicles]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: draw functions read the refs.
  useEffect(() => drawPolygons(polygons), [polygons]);

  return <section ref={container} className="map" aria-label={label} />;
}
