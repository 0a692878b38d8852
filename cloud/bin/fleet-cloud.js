#!/usr/bin/env node
// Runs the TypeScript entry point in-process through tsx (no build step), like fleet-agent.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
