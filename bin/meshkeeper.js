#!/usr/bin/env node
// Node 24 strips the types of src/ itself: no build step (STACK.md, "Runtime and language").
// Signals are held before the rest of the CLI loads (src/cli/early-signals.ts).
import { cliLoaded, holdSignals } from '../src/cli/early-signals.ts';

holdSignals();
const { runAsProcess } = await import('../src/cli/main.ts');
cliLoaded();
await runAsProcess();
