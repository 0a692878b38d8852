#!/usr/bin/env node
// Launcher: registers tsx's loader in this very process and runs the TypeScript entry point, so
// SIGTERM/SIGINT reach the simulator directly (no wrapper process in between).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
