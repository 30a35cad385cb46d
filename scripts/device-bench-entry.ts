// Entry point of the bundled bench that scripts/device-pack.sh builds for a machine without
// Node, npm or a registry (SPEC §7, docs/perf.md "A run on a lent GPU"): the CLI's `bench`
// command and its options, nothing else of the CLI. esbuild bundles it with TensorFlow.js and
// jax-js; `webgpu` (Dawn) stays outside, beside it in the pack, and shaders/ is copied next to
// the bundle (src/engine/shaders-node.ts looks for it above the running file).
import { parseArgs } from 'node:util';
import { bench } from '../src/cli/commands/bench';
import { helpText, UsageError } from '../src/cli/command';

async function main(argv: string[]): Promise<number> {
  const options = { ...bench.options, help: { type: 'boolean' as const, short: 'h' } };
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({ args: argv, options: options as never, strict: true, allowPositionals: false }).values as typeof values;
  } catch (e) {
    throw new UsageError(`bench: ${(e as Error).message.split('\n')[0]}`);
  }
  if (values.help) {
    console.log(helpText(bench));
    return 0;
  }
  return (await bench.run(values)) ?? 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const err = e as Error;
    console.error(`error: ${(err?.message ?? String(e)).split('\n')[0]}`);
    if (process.env.PREFPLAY_DEBUG) console.error(err?.stack);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
