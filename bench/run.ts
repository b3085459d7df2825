import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * `npm run bench [-- <name>…] [-- --<flag> <value>…]`: runs bench/<name>/run.ts one after the
 * other (never in parallel: each one measures the machine), every one when no name is given.
 * Flags after the names go to each bench. Each writes its figures to bench/results/<name>.md.
 */

const here = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(here, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'results')
  .map((entry) => entry.name)
  .sort();

const args = process.argv.slice(2);
const firstFlag = args.findIndex((arg) => arg.startsWith('--'));
const names = firstFlag === -1 ? args : args.slice(0, firstFlag);
const flags = firstFlag === -1 ? [] : args.slice(firstFlag);
const unknown = names.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench: ${unknown.join(', ')} (have: ${available.join(', ')})\n`);
  process.exit(2);
}

for (const name of names.length > 0 ? names : available) {
  process.stderr.write(`[bench] ${name}\n`);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, [join(here, name, 'run.ts'), ...flags], {
      stdio: 'inherit',
    });
    child.on('exit', (status, signal) => resolve(status ?? (signal === null ? 1 : 128)));
  });
  if (code !== 0) {
    process.stderr.write(`[bench] ${name} failed (exit ${code})\n`);
    process.exit(code);
  }
}
