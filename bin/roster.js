#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx roster …` works right after `npm install`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/roster.ts');
await main();
