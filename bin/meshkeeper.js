#!/usr/bin/env node
// Node 24 strips the types of src/ itself: no build step (STACK.md, "Runtime and language").
import { runAsProcess } from '../src/cli/main.ts';

await runAsProcess();
