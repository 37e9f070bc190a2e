import { describe, expect, it } from 'vitest';
import { createSecretMasker } from '../../../src/metrics/secret-masker.js';

const secret = 'hunter2-S3cr3t/token+"quoted"\\end';

describe('createSecretMasker', () => {
  it('masks the raw value wherever it appears', () => {
    const mask = createSecretMasker([secret]);

    const out = mask(`token=${secret} and again ${secret}.`);

    expect(out).toBe('token=*** and again ***.');
  });

  it.each([0, 1, 2, 3, 4, 5])(
    'masks Base64 of the secret after %i leading bytes (every alignment)',
    (prefixBytes) => {
      const mask = createSecretMasker([secret]);
      const prefix = 'p'.repeat(prefixBytes);
      const encoded = Buffer.from(`${prefix}${secret}-suffix`).toString(
        'base64',
      );

      const out = mask(`blob: ${encoded}`);

      expect(out).toContain('***');
      // What is left can no longer be decoded back to the secret.
      for (const part of out.slice('blob: '.length).split('***')) {
        expect(Buffer.from(part, 'base64').toString('latin1')).not.toContain(
          'hunter2',
        );
      }
    },
  );

  it('masks the JSON-escaped form (quotes, backslashes, newlines)', () => {
    const multi = 'line-one"x\\y\nline-two';
    const mask = createSecretMasker([secret, multi]);

    const out = mask(JSON.stringify({ a: secret, b: multi }));

    expect(out).toBe('{"a":"***","b":"***"}');
  });

  it('masks the URL-encoded form', () => {
    const mask = createSecretMasker([secret]);

    const out = mask(`https://x.test/?t=${encodeURIComponent(secret)}&u=1`);

    expect(out).toBe('https://x.test/?t=***&u=1');
  });

  it('masks each line of a multi-line secret, as logs are masked per line', () => {
    const key = '-----BEGIN KEY-----\nMIIEabcdefgh\n-----END KEY-----';
    const mask = createSecretMasker([key]);

    const lines = key.split('\n').map(mask);

    expect(lines).toEqual(['***', '***', '***']);
  });

  it('masks a secret printed split across two lines', () => {
    const mask = createSecretMasker(['first-half\r\nsecond-half']);

    expect(mask('first-half')).toBe('***');
    expect(mask('second-half')).toBe('***');
  });

  it('masks every line of a long secret piped through base64, which wraps (issue 11 item 8)', () => {
    const secret = 'sk-live-' + 'Zq81xVb0'.repeat(9); // 80 bytes: wraps at 76
    const mask = createSecretMasker([secret]);
    for (const input of [`${secret}\n`, secret]) {
      const encoded = Buffer.from(input).toString('base64');
      for (const width of [76, 64]) {
        const lines = encoded.match(new RegExp(`.{1,${width}}`, 'g')) ?? [];
        expect(lines.length).toBeGreaterThan(1);

        const shown = lines.map(mask).join('\n');

        // What is left can't be decoded back to any 8 bytes of the secret.
        const left = shown.split(/\*\*\*|\n/).join('');
        expect(left.length).toBeLessThan(8);
      }
    }
  });

  it('masks a secret with colour codes inside it', () => {
    const mask = createSecretMasker(['hunter2-secret']);

    expect(mask('pw: hun\u001b[31mter2-sec\u001b[0mret!')).toBe('pw: ***!');
    expect(mask('\u001b[1mplain\u001b[0m')).toBe('\u001b[1mplain\u001b[0m');
  });

  it('ignores secrets shorter than 4 characters and empty lines of secrets', () => {
    const mask = createSecretMasker(['abc', '', 'x\n\nlong-enough']);

    expect(mask('abc x long-enough')).toBe('abc x ***');
  });

  it('returns text unchanged when there is nothing to mask', () => {
    const mask = createSecretMasker([]);

    expect(mask('nothing (here) [*]')).toBe('nothing (here) [*]');
  });

  it('treats regex characters in secrets literally', () => {
    const mask = createSecretMasker(['a.b*c(d)']);

    expect(mask('axbbbcd a.b*c(d)')).toBe('axbbbcd ***');
  });
});
