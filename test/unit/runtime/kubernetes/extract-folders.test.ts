import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { extractFolders } from '../../../../src/runtime/kubernetes/extract-folders.js';
import { packFolders } from '../../../../src/runtime/kubernetes/pack-folders.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-tar-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0))
    await rm(dir, { recursive: true, force: true });
});

type Entry = Parameters<ReturnType<typeof tar.pack>['entry']>[0] & {
  body?: string;
};

function archive(entries: Entry[]): Readable {
  const pack = tar.pack();
  for (const { body, ...header } of entries) {
    pack.entry(header, body ?? (header.type === 'file' ? '' : undefined)!);
  }
  pack.finalize();
  return Readable.from(pack);
}

describe('extractFolders', () => {
  it('round-trips folders packed by packFolders, with modes and links', async () => {
    const source = await tempDir();
    await mkdir(join(source, 'sub'));
    await writeFile(join(source, 'sub', 'run.sh'), 'echo hi\n', {
      mode: 0o755,
    });
    await writeFile(join(source, 'data.txt'), 'rows\n');
    await symlink('data.txt', join(source, 'link'));
    const target = await tempDir();

    const result = await extractFolders(
      Readable.from(
        packFolders(
          [{ name: 'm0', hostPath: source, writable: true }],
          '.done',
        ),
      ),
      { m0: target },
    );

    expect(result.files).toBe(2);
    expect(await readFile(join(target, 'sub', 'run.sh'), 'utf8')).toBe(
      'echo hi\n',
    );
    expect((await lstat(join(target, 'sub', 'run.sh'))).mode & 0o111).not.toBe(
      0,
    );
    expect((await lstat(join(target, 'link'))).isSymbolicLink()).toBe(true);
    expect(result.skipped).toEqual(['".done": outside the folders asked for']);
  });

  it('never writes outside its folder or beneath a link the archive made', async () => {
    const target = await tempDir();
    const outside = await tempDir();

    const result = await extractFolders(
      archive([
        { name: 'm0/../escape.txt', type: 'file', body: 'x' },
        { name: '/etc/evil', type: 'file', body: 'x' },
        { name: 'm0/out', type: 'symlink', linkname: outside },
        { name: 'm0/out/planted.txt', type: 'file', body: 'x' },
        { name: 'm1/other.txt', type: 'file', body: 'x' },
        { name: 'm0/fifo', type: 'fifo' },
        { name: 'm0/ok.txt', type: 'file', body: 'fine', mode: 0o4755 },
      ]),
      { m0: target },
    );

    expect(await readdir(outside)).toEqual([]);
    expect(await readFile(join(target, 'ok.txt'), 'utf8')).toBe('fine');
    expect((await lstat(join(target, 'ok.txt'))).mode & 0o7777).toBe(0o755);
    expect(result.files).toBe(1);
    expect(result.skipped).toEqual([
      '"m0/../escape.txt": unsafe path (absolute, .. or control characters)',
      '"/etc/evil": unsafe path (absolute, .. or control characters)',
      '"m0/out/planted.txt": beneath a symbolic link',
      '"m1/other.txt": outside the folders asked for',
      '"m0/fifo": not a regular file (fifo)',
    ]);
  });

  it('copies hard links from the file unpacked before them', async () => {
    const target = await tempDir();

    const result = await extractFolders(
      archive([
        { name: 'm0/a.bin', type: 'file', body: 'same' },
        { name: 'm0/b.bin', type: 'link', linkname: 'm0/a.bin' },
      ]),
      { m0: target },
    );

    expect(await readFile(join(target, 'b.bin'), 'utf8')).toBe('same');
    expect(result.files).toBe(2);
  });
});
