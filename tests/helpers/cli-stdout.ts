// Runs a CLI command in-process (src/cli/main) and returns what it printed with console.log,
// joined by newlines; the command must exit 0.
import { expect, vi } from 'vitest';
import { main } from '../../src/cli/main';

export async function cliStdout(args: string[]): Promise<string> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    expect(await main(args)).toBe(0);
    return log.mock.calls.map((c) => c.join(' ')).join('\n');
  } finally {
    log.mockRestore();
  }
}
