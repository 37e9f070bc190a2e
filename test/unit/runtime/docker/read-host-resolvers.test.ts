import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseNameservers,
  readHostResolvers,
} from '../../../../src/runtime/docker/read-host-resolvers.js';

describe('parseNameservers', () => {
  it('keeps IPv4 resolvers a container can reach', () => {
    const text = [
      '# comment',
      'nameserver 127.0.0.53',
      'nameserver 10.255.255.53',
      'nameserver fd00::53',
      '  nameserver 1.1.1.1  ',
      'search example.com',
    ].join('\n');

    expect(parseNameservers(text)).toEqual(['10.255.255.53', '1.1.1.1']);
  });
});

describe('readHostResolvers', () => {
  it("falls back to systemd-resolved's upstream list", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-resolv-'));
    const stub = join(dir, 'stub.conf');
    const upstream = join(dir, 'upstream.conf');
    await writeFile(stub, 'nameserver 127.0.0.53\n');
    await writeFile(upstream, 'nameserver 192.0.2.53\n');

    const found = await readHostResolvers([
      join(dir, 'absent'),
      stub,
      upstream,
    ]);

    await rm(dir, { recursive: true, force: true });
    expect(found).toEqual(['192.0.2.53']);
  });
});
