/**
 * The dashboard's page of vehicles: the API's largest page ([1...500]); a bigger fleet is told
 * that it sees only this many. A module of its own: the server page (fleet-snapshot.ts) and the
 * client component both read it, and a value exported from a 'use client' module is not a value
 * on the server.
 */
export const VEHICLE_LIMIT = 500;
