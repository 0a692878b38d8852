/** What the disk budget evicted, by kind (AgentDb enforces it; the sample outbox reports it). */
export type EvictionKind = 'rawSynced' | 'rawUnsynced' | 'rollups' | 'events';
export type EvictionCounters = Record<EvictionKind, number>;
