#!/usr/bin/env node
// Runs the TypeScript entry point in-process through tsx (no build step on the device), so
// signals reach the agent directly.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
