import { Command, CommanderError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { registerAdmin } from './admin.ts';
import { registerCluster } from './cluster.ts';
import { registerConfig } from './config.ts';
import { type CliContext, EXIT_OK, EXIT_USAGE, processContext } from './context.ts';
import { configFlagsHelp } from './flags-help.ts';
import { registerRun } from './run.ts';

/**
 * The `meshkeeper` command line. Each subcommand lives in its own file and registers itself
 * here; `cluster` (src/cli/cluster.ts) and `admin` (src/cli/admin.ts) are added the same way.
 * Returns the exit code: 0 success, 1 runtime failure, 2 usage or configuration error.
 */
export async function runCli(
  argv: readonly string[],
  overrides: Partial<CliContext> = {},
): Promise<number> {
  const ctx: CliContext = { ...processContext(), ...overrides };
  let exitCode = EXIT_OK;
  const setExitCode = (code: number): void => {
    exitCode = code;
  };
  const program = new Command('meshkeeper')
    .description('A peer-to-peer node that keeps its connections inside configured bounds')
    .version(packageJson.version)
    .configureOutput({ writeOut: ctx.stdout, writeErr: ctx.stderr })
    // Commander would call process.exit; a thrown CommanderError keeps runCli testable.
    .exitOverride()
    .showHelpAfterError('(meshkeeper --help lists the commands and flags)')
    .addHelpText('after', configFlagsHelp());
  registerRun(program, ctx, setExitCode);
  registerConfig(program, ctx, setExitCode);
  registerCluster(program, ctx, setExitCode);
  registerAdmin(program, ctx, setExitCode);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (cause) {
    if (cause instanceof CommanderError) return cause.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw cause;
  }
  return exitCode;
}

/** Runs the command line as this process: its exit code, and nothing left to keep it alive. */
export async function runAsProcess(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2));
  // The command is over: a handle left open (a socket stuck past the stop deadline) must not keep
  // the process alive. Unref'd, so a clean exit is not delayed by it.
  setTimeout(() => process.exit(), 2000).unref();
}
