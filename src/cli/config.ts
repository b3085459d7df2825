import type { Command } from 'commander';
import { loadConfig, redactConfig } from '../config/index.ts';
import { type CliContext, EXIT_OK, EXIT_USAGE } from './context.ts';
import { configFlagsHelp } from './flags-help.ts';
import { printConfigErrors } from './run.ts';

/** `meshkeeper config print [flags]`: the resolved config as JSON, the admin token redacted. */
export function registerConfig(
  program: Command,
  ctx: CliContext,
  setExitCode: (code: number) => void,
): void {
  const config = program.command('config').description('inspect the configuration');
  const print = config
    .command('print')
    .description('print the resolved configuration as JSON (durations in ms, token redacted)')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', configFlagsHelp());
  print.action(() => setExitCode(printConfig(print.args, ctx)));
}

export function printConfig(args: readonly string[], ctx: CliContext): number {
  const loaded = loadConfig({ argv: args, env: ctx.env });
  if (!loaded.ok) {
    printConfigErrors(loaded.errors, ctx);
    return EXIT_USAGE;
  }
  ctx.stdout(`${JSON.stringify(redactConfig(loaded.config), null, 2)}\n`);
  return EXIT_OK;
}
