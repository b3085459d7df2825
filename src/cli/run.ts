import type { Command } from 'commander';
import { type ConfigError, formatConfigError, loadConfig } from '../config/index.ts';
import { type CliContext, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type RunningNode } from './context.ts';
import { configFlagsHelp } from './flags-help.ts';

/** `meshkeeper run [flags]`: load the config, start the node, stop it on SIGINT/SIGTERM. */
export function registerRun(
  program: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
): void {
  const run = program
    .command('run')
    .description('start a node with the configuration from flags, environment and --config file')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', configFlagsHelp());
  // The config flags are read by loadConfig, which reports every mistake at once.
  run.action(async () => setExitCode(await runNode(run.args, ctx)));
}

export async function runNode(args: readonly string[], ctx: CliContext): Promise<number> {
  const loaded = loadConfig({ argv: args, env: ctx.env });
  if (!loaded.ok) {
    printConfigErrors(loaded.errors, ctx);
    return EXIT_USAGE;
  }
  let node: RunningNode;
  try {
    const startNode = await ctx.loadStartNode();
    node = await startNode(loaded.config, { env: ctx.env });
  } catch (cause) {
    ctx.stderr(`meshkeeper: failed to start: ${describe(cause)}\n`);
    return EXIT_FAILURE;
  }
  const signal = await ctx.waitForShutdown();
  ctx.stderr(`meshkeeper: ${signal} received, stopping\n`);
  try {
    await node.stop();
    return EXIT_OK;
  } catch (cause) {
    ctx.stderr(`meshkeeper: stop failed: ${describe(cause)}\n`);
    return EXIT_FAILURE;
  }
}

export function printConfigErrors(errors: readonly ConfigError[], ctx: CliContext): void {
  const noun = errors.length === 1 ? 'error' : 'errors';
  ctx.stderr(`meshkeeper: ${errors.length} configuration ${noun}:\n`);
  for (const error of errors) ctx.stderr(`  ${formatConfigError(error)}\n`);
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
