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

/**
 * Every step of `stop()` is bounded on its own (close timeouts, dial timeouts); this bounds the
 * sum, below Kubernetes' default 30 s termination grace, so SIGKILL never cuts a persist short.
 */
const STOP_DEADLINE_MS = 25_000;

export async function runNode(args: readonly string[], ctx: CliContext): Promise<number> {
  const loaded = loadConfig({ argv: args, env: ctx.env });
  if (!loaded.ok) {
    printConfigErrors(loaded.errors, ctx);
    return EXIT_USAGE;
  }
  // Listening before the start: a signal while the node starts (modules load for seconds on a
  // busy machine) would otherwise kill it with the default action; now it stops once started.
  const shutdown = ctx.waitForShutdown();
  let node: RunningNode;
  try {
    const startNode = await ctx.loadStartNode();
    node = await startNode(loaded.config, { env: ctx.env });
  } catch (cause) {
    ctx.stderr(`meshkeeper: failed to start: ${describe(cause)}\n`);
    return EXIT_FAILURE;
  }
  // A signal, or the node stopping by itself (admin Shutdown), whichever comes first.
  const selfStop = node.stopped?.then(() => undefined);
  const signal = await Promise.race([shutdown, ...(selfStop ? [selfStop] : [])]);
  ctx.stderr(
    signal === undefined
      ? 'meshkeeper: stopped by admin Shutdown\n'
      : `meshkeeper: ${signal} received, stopping\n`,
  );
  const deadlineMs = ctx.stopDeadlineMs ?? STOP_DEADLINE_MS;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), deadlineMs);
  });
  try {
    if ((await Promise.race([node.stop(), deadline])) === 'deadline') {
      ctx.stderr(`meshkeeper: stop did not finish within ${deadlineMs} ms, exiting\n`);
      return EXIT_FAILURE;
    }
    return EXIT_OK;
  } catch (cause) {
    ctx.stderr(`meshkeeper: stop failed: ${describe(cause)}\n`);
    return EXIT_FAILURE;
  } finally {
    clearTimeout(timer);
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
