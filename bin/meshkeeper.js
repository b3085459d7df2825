#!/usr/bin/env node
// Node 24 strips the types of src/ itself: no build step (STACK.md, "Runtime and language").
import { runCli } from '../src/cli/main.ts';

process.exitCode = await runCli(process.argv.slice(2));
