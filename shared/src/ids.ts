/** Tenant and vehicle ids appear in topics: no wildcards, no level separators, bounded length. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
