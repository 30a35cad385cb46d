// PrefPlay's headless CLI: `npm run cli -- <command> [options]` (README.md). Same engine as
// the page, on Node + Dawn WebGPU. Bad input: one line on stderr, exit code 2.
import { parseArgs } from 'node:util';
import { commands } from './commands/index';
import { helpText, joinNegativeValues, UsageError, type Command } from './command';

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'Usage: npm run cli -- <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)} ${c.summary.split('. ')[0].replace(/\.$/, '')}`),
    '',
    'Run `npm run cli -- <command> --help` for a command\'s options.',
  ].join('\n');
}

async function runCommand(cmd: Command, argv: string[]): Promise<number> {
  const options = { ...cmd.options, help: { type: 'boolean' as const, short: 'h' } };
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    const parsed = parseArgs({ args: joinNegativeValues(argv, options), options: options as never, strict: true, allowPositionals: false });
    values = parsed.values as typeof values;
  } catch (e) {
    throw new UsageError(`${cmd.name}: ${(e as Error).message.split('\n')[0]} (see \`npm run cli -- ${cmd.name} --help\`)`);
  }
  if (values.help) {
    console.log(helpText(cmd));
    return 0;
  }
  return (await cmd.run(values)) ?? 0;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(topHelp());
    return name ? 0 : 2;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) throw new UsageError(`unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')})`);
  return runCommand(cmd, rest);
}

const isEntry = process.argv[1] && /cli[\\/]main\.[cm]?[jt]s$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      const err = e as Error;
      const msg = (err?.message ?? String(e)).split('\n')[0];
      console.error(`error: ${msg}`);
      if (process.env.PREFPLAY_DEBUG) console.error(err?.stack);
      process.exit(err instanceof UsageError ? 2 : 1);
    },
  );
}
