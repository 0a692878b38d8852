'use client';

import { createContext, useContext } from 'react';
import { METRIC } from '../../../lib/units.ts';
import { type DriverText, driverText } from './i18n.ts';

/** The driver pages' language and units; English and metric until the preferences are read. */
export const DriverTextContext = createContext<DriverText>(driverText('en', METRIC));

export const useDriverText = (): DriverText => useContext(DriverTextContext);
