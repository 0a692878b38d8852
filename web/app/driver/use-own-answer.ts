'use client';

import { useCallback, useRef, useState } from 'react';

/**
 * A card's data: what the home read brought (`fromHome`), or what the card read or was answered
 * itself since (after an action of its own), until the next home read brings newer data.
 */
export function useOwnAnswer<T>(fromHome: T): [T, (own: T) => void] {
  const [own, setOwn] = useState<{ over: T; value: T } | null>(null);
  const fromHomeRef = useRef(fromHome);
  fromHomeRef.current = fromHome;
  const set = useCallback((value: T) => setOwn({ over: fromHomeRef.current, value }), []);
  return [own !== null && own.over === fromHome ? own.value : fromHome, set];
}
