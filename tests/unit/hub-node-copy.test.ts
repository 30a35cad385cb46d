// The Node cache's copyFile (src/hub/cache-node.ts) on a file system without hard links: the copy
// streams into the partial file and is renamed once whole, a cancel stops it mid-file, and what it
// had written is dropped (a copy starts afresh). `link` is made to fail as on such a file system.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeHubStorage, snapshotDir } from '../../src/hub/cache-node';

vi.mock('node:fs/promises', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:fs/promises')>();
  return { ...orig, link: vi.fn(orig.link) };
});

const tmp = mkdtempSync(join(tmpdir(), 'prefplay-hub-copy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the Node cache copies without hard links', () => {
  it('copies in full, and a cancel mid-copy leaves neither the file nor its partial', async () => {
    let onLink = () => {};
    vi.mocked(fsp.link).mockImplementation(async () => {
      onLink();
      throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
    });
    const storage = nodeHubStorage(tmp);
    const from = { repo: 'test-org/copy', commit: 'a'.repeat(40) };
    const to = { repo: 'test-org/copy', commit: 'b'.repeat(40) };
    const bytes = new Uint8Array(64 << 20).map((_, i) => (i * 13) & 255);
    const w = await storage.openPartial(from, 'model.safetensors', false);
    await w.write(bytes);
    await w.close();
    await storage.completePartial(from, 'model.safetensors');
    const part = join(tmp, 'models--test-org--copy', '.prefplay', to.commit, 'model.safetensors.part');

    expect(await storage.copyFile(from, to, 'model.safetensors')).toBe(bytes.length);
    const dest = join(snapshotDir(tmp, to), 'model.safetensors');
    expect(statSync(dest).nlink).toBe(1); // a copy, not a link
    expect(Buffer.compare(readFileSync(dest), Buffer.from(bytes))).toBe(0);
    expect(existsSync(part)).toBe(false);

    // cancelled once the copy is under way (2 ms after the link failed: 64 MB take longer): an
    // AbortError, nothing of it left
    const to2 = { repo: 'test-org/copy', commit: 'c'.repeat(40) };
    const ac = new AbortController();
    onLink = () => void setTimeout(() => ac.abort(), 2);
    await expect(storage.copyFile(from, to2, 'model.safetensors', ac.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(await storage.fileSize(to2, 'model.safetensors')).toBeNull();
    expect(existsSync(join(tmp, 'models--test-org--copy', '.prefplay', to2.commit, 'model.safetensors.part'))).toBe(false);
    expect(await storage.fileSize(from, 'model.safetensors')).toBe(bytes.length);
    expect(vi.mocked(fsp.link)).toHaveBeenCalledTimes(2);
  });
});
