import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/config/finding.js';
import { PyFloat, PyTimestamp } from '../../../src/config/py-scalars.js';
import { readYaml } from '../../../src/config/read-yaml.js';

function read(text: string, maxBytes?: number) {
  return readYaml(text, { file: 'kiln.yaml', maxBytes });
}

/** The value of key `v` in `v: <scalar>`, with no finding expected. */
function scalar(source: string): unknown {
  const document = read(`v: ${source}\n`);
  expect(document.findings).toEqual([]);
  return (document.value as Record<string, unknown>).v;
}

function errors(findings: readonly Finding[]): Finding[] {
  return findings.filter((finding) => finding.severity === 'error');
}

/** The only error a text gives; the value must be missing or kept. */
function onlyError(text: string): Finding {
  const found = errors(read(text).findings);
  expect(found).toHaveLength(1);
  return found[0] as Finding;
}

describe('readYaml scalar typing (PyYAML SafeLoader, YAML 1.1)', () => {
  it.each<[string, unknown]>([
    ['1e-4', '1e-4'],
    ['1e5', '1e5'],
    ['1.0e5', '1.0e5'],
    ['-.5', '-.5'],
    ['1.0e-5', new PyFloat(1e-5)],
    ['1.0E+5', new PyFloat(1e5)],
    ['0.001', new PyFloat(0.001)],
    ['1.', new PyFloat(1)],
    ['.5', new PyFloat(0.5)],
    ['1_000.5', new PyFloat(1000.5)],
    ['1:30.5', new PyFloat(90.5)],
    ['.inf', new PyFloat(Infinity)],
    ['-.Inf', new PyFloat(-Infinity)],
    ['.NaN', new PyFloat(NaN)],
    ['010', 8],
    ['0o10', '0o10'],
    ['08', '08'],
    ['0x1F', 31],
    ['0b101', 5],
    ['-0b101', -5],
    ['1_000', 1000],
    ['1:30', 90],
    ['190:20:30', 685230],
    ['1:60', '1:60'],
    ['+12', 12],
    ['-0', 0],
    ['yes', true],
    ['On', true],
    ['OFF', false],
    ['NO', false],
    ['TRUE', true],
    ['y', 'y'],
    ['n', 'n'],
    ['yEs', 'yEs'],
    ['~', null],
    ['null', null],
    ['NULL', null],
    ['nUll', 'nUll'],
    ['', null],
    ['2001-12-14', new PyTimestamp('2001-12-14')],
    ['2001-1-2 3:04:05', new PyTimestamp('2001-01-02 03:04:05')],
    [
      '2001-12-14 21:59:43.10 -5',
      new PyTimestamp('2001-12-14 21:59:43.100000-05:00'),
    ],
    ['2001-12-14t21:59:43Z', new PyTimestamp('2001-12-14 21:59:43+00:00')],
    ['2001-1-2', '2001-1-2'],
    ['"1"', '1'],
    ["'yes'", 'yes'],
    ['"~"', '~'],
    ['"1e-4"', '1e-4'],
    ['|\n  010\n', '010\n'],
    ['!!str 1e-4', '1e-4'],
    ['!!str yes', 'yes'],
    ['!!float 1', new PyFloat(1)],
    ['!!float 1e5', new PyFloat(1e5)],
    ['!!int "12"', 12],
    ['!!bool "on"', true],
    ['!!null anything', null],
    ['! 12', 12],
    ['hello world', 'hello world'],
  ])('reads %j like PyYAML', (source, expected) => {
    expect(scalar(source)).toStrictEqual(expected);
  });

  it.each(['!!int 1e5', '!!bool maybe', '!!float abc', '0b_', '2001-02-30'])(
    'reports %j, which PyYAML cannot construct',
    (source) => {
      const finding = onlyError(`v: ${source}\n`);
      expect(finding).toMatchObject({ line: 1, column: 4, path: 'v' });
    },
  );

  it.each<[string, unknown]>([
    ['9007199254740991', 9007199254740991],
    ['9007199254740992', 9007199254740992n],
    ['9007199254740993', 9007199254740993n],
    ['-9007199254740993', -9007199254740993n],
    ['12345678901234567890', 12345678901234567890n],
    ['1_0000_0000_0000_0000_0001', 100000000000000000001n],
    ['0x20000000000001', 9007199254740993n],
    ['!!int "9007199254740993"', 9007199254740993n],
  ])(
    'keeps every digit of the int %j (a bigint beyond 2^53)',
    (source, expected) => {
      expect(scalar(source)).toStrictEqual(expected);
    },
  );

  it('reads a huge int key as its digits', () => {
    expect(read('9007199254740993: a\n').value).toEqual({
      '9007199254740993': 'a',
    });
  });

  it('turns non-string keys into their Python str() text', () => {
    const document = read(
      '12: a\n1.5: b\ntrue: c\n~: d\n2001-12-14: e\n0x10: g\n1e5: h\n' +
        '0.00001: i\n100000000000000000.0: j\n-0.0: k\n.inf: l\n',
    );
    expect(document.findings).toEqual([]);
    expect(document.value).toEqual({
      '12': 'a',
      '1.5': 'b',
      True: 'c',
      None: 'd',
      '2001-12-14': 'e',
      '16': 'g',
      '1e5': 'h',
      '1e-05': 'i',
      '1e+17': 'j',
      '-0.0': 'k',
      inf: 'l',
    });
  });

  it('treats keys Python finds equal as one key (1, 1.0 and true)', () => {
    const document = read('1: a\n1.0: b\non: c\n');
    expect(document.value).toEqual({ '1': 'c' });
    expect(document.findings).toMatchObject([
      {
        severity: 'warning',
        line: 2,
        message: expect.stringMatching(/^duplicate key/),
      },
      {
        severity: 'warning',
        line: 3,
        message: expect.stringMatching(/^duplicate key/),
      },
    ]);
  });

  it('warns when different keys read as the same text', () => {
    const document = read('1: a\n"1": b\n');
    expect(document.value).toEqual({ '1': 'b' });
    expect(document.findings).toMatchObject([{ severity: 'warning', line: 2 }]);
  });
});

describe('readYaml mappings', () => {
  it('keeps the last of two duplicate keys and warns at the second', () => {
    const document = read(
      'image: python:3.9\ncommand: x\nimage: python:3.12\n',
    );
    expect(document.value).toEqual({ image: 'python:3.12', command: 'x' });
    expect(document.findings).toEqual([
      {
        file: 'kiln.yaml',
        line: 3,
        column: 1,
        path: 'image',
        severity: 'warning',
        message: 'duplicate key "image": the last value is used',
      },
    ]);
  });

  it.each<[string, string, unknown]>([
    [
      'one mapping; explicit keys win',
      'base: &b {image: a, command: b}\nstep:\n  <<: *b\n  command: c\n',
      { image: 'a', command: 'c' },
    ],
    [
      'a list; earlier mappings win',
      'x: &x {a: 1, b: 1}\ny: &y {b: 2, c: 2}\nstep:\n  <<: [*x, *y]\n',
      { a: 1, b: 1, c: 2 },
    ],
    [
      'merges of merges',
      'x: &x {a: 1}\ny: &y {<<: *x, b: 2}\nstep: {<<: *y, c: 3}\n',
      { a: 1, b: 2, c: 3 },
    ],
    ['an inline mapping', 'step: {<<: {a: 1}, b: 2}\n', { a: 1, b: 2 }],
  ])('applies merge keys: %s', (_name, text, expected) => {
    const document = read(text);
    expect(document.findings).toEqual([]);
    expect((document.value as Record<string, unknown>).step).toEqual(expected);
  });

  it('gives merged keys the order PyYAML gives them', () => {
    const document = read('x: &x {a: 1, b: 1}\nstep:\n  c: 3\n  <<: *x\n');
    const step = (document.value as Record<string, unknown>).step as object;
    expect(Object.keys(step)).toEqual(['a', 'b', 'c']);
  });

  it('reports a problem inside an anchor once, however often it is used', () => {
    const document = read('x: &x {a: 1, a: 2}\ny: *x\nz: {<<: *x}\n');
    expect(document.value).toEqual({ x: { a: 2 }, y: { a: 2 }, z: { a: 2 } });
    expect(document.findings).toMatchObject([
      { severity: 'warning', line: 1, column: 14, path: 'x.a' },
    ]);
  });

  it('does not warn when an explicit key overrides a merged one', () => {
    const document = read('x: &x {a: 1}\nstep: {<<: *x, a: 2}\n');
    expect(document.findings).toEqual([]);
  });

  it.each(['step: {<<: 1}\n', 'x: &x [1]\nstep: {<<: [*x]}\n'])(
    'reports a merge of something that is not a mapping: %j',
    (text) => {
      expect(onlyError(text).message).toMatch(/merge key << needs/);
    },
  );

  it('reports a list used as a key', () => {
    const finding = onlyError('? [a, b]\n: c\n');
    expect(finding.message).toMatch(/cannot be used as a mapping key/);
  });

  it('builds mappings without a prototype', () => {
    const document = read('a: {b: 1}\n');
    const value = document.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBeNull();
    expect(Object.getPrototypeOf(value.a)).toBeNull();
  });
});

describe('readYaml prototype keys', () => {
  it.each([
    '{__proto__: {polluted: 1}}\n',
    '__proto__:\n  polluted: 1\n',
    '"__proto__": {polluted: 1}\n',
    '<<: {__proto__: {polluted: 1}}\n',
    'x: &x {__proto__: {polluted: 1}}\ny: {<<: *x}\n',
    'constructor: {prototype: {polluted: 1}}\n',
    'a: {prototype: {polluted: 1}}\n',
  ])('refuses %j and pollutes nothing', (text) => {
    const document = read(text);
    const found = errors(document.findings);
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]?.message).toMatch(
      /^key "(__proto__|constructor|prototype)" is not allowed/,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(JSON.stringify(document.value)).not.toContain('polluted');
  });
});

describe('readYaml positions', () => {
  const text = [
    '- step:',
    '    name: train',
    '    parameters:',
    '      - name: lr',
    '        default: 0.001',
    '      - name: epochs',
    '        default:',
    '          10',
    '',
  ].join('\n');

  it.each<[(string | number)[], number, number]>([
    [[], 1, 1],
    [[0], 1, 3],
    [[0, 'step'], 2, 5],
    [[0, 'step', 'name'], 2, 11],
    [[0, 'step', 'parameters', 1], 6, 9],
    [[0, 'step', 'parameters', 1, 'default'], 8, 11],
    [[0, 'step', 'parameters', 0, 'default'], 5, 18],
    // Unknown paths fall back to the nearest known ancestor.
    [[0, 'step', 'image'], 2, 5],
    [[0, 'step', 'parameters', 7, 'x'], 4, 7],
  ])('valueAt(%j) is %i:%i', (path, line, column) => {
    expect(read(text).positions.valueAt(path)).toEqual({ line, column });
  });

  it.each<[(string | number)[], number, number]>([
    [[0, 'step'], 1, 3],
    [[0, 'step', 'parameters'], 3, 5],
    [[0, 'step', 'parameters', 1, 'default'], 7, 9],
    // A list index has no key: the value's position.
    [[0, 'step', 'parameters', 1], 6, 9],
  ])('keyAt(%j) is %i:%i', (path, line, column) => {
    expect(read(text).positions.keyAt(path)).toEqual({ line, column });
  });

  it('points into an anchor for values reached through an alias', () => {
    const document = read('base: &b\n  image: x\nstep: *b\n');
    expect(document.positions.valueAt(['step'])).toEqual({
      line: 3,
      column: 7,
    });
    expect(document.positions.valueAt(['step', 'image'])).toEqual({
      line: 2,
      column: 10,
    });
  });

  it('counts lines of CRLF texts and ignores a BOM', () => {
    const document = read('\uFEFFa: 1\r\nb: yes\r\n');
    expect(document.findings).toEqual([]);
    expect(document.value).toEqual({ a: 1, b: true });
    expect(document.positions.keyAt(['a'])).toEqual({ line: 1, column: 1 });
    expect(document.positions.valueAt(['b'])).toEqual({ line: 2, column: 4 });
  });
});

describe('readYaml hostile input', () => {
  function billionLaughs(): string {
    const lines = [`a0: &a0 [${Array(10).fill('"lol"').join(', ')}]`];
    for (let level = 1; level < 10; level += 1) {
      const refs = Array(10)
        .fill(`*a${level - 1}`)
        .join(', ');
      lines.push(`a${level}: &a${level} [${refs}]`);
    }
    lines.push('bomb: *a9');
    return `${lines.join('\n')}\n`;
  }

  function mergeBomb(): string {
    const lines = ['m0: &m0 {a: 1, b: 2}'];
    for (let level = 1; level < 12; level += 1) {
      const refs = Array(10)
        .fill(`*m${level - 1}`)
        .join(', ');
      lines.push(`m${level}: &m${level} {<<: [${refs}], k${level}: 1}`);
    }
    return `${lines.join('\n')}\n`;
  }

  // Each level's definition already expands the levels below it, so the
  // budget runs out at an early definition, long before `bomb: *a9`.
  it('stops a billion-laughs alias bomb at an alias', () => {
    const document = read(billionLaughs());
    expect(document.value).toBeUndefined();
    expect(document.findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: expect.stringMatching(
          /^too many alias expansions \(a YAML alias bomb\?\)/,
        ),
      }),
    ]);
    const line =
      billionLaughs().split('\n')[(document.findings[0]?.line ?? 0) - 1];
    expect(line).toMatch(/^a\d: &a\d \[\*a\d/);
  });

  it('stops an alias bomb made of merge keys', () => {
    const document = read(mergeBomb());
    expect(document.value).toBeUndefined();
    expect(errors(document.findings)[0]?.message).toMatch(
      /too many alias expansions/,
    );
  });

  it('reads a moderate use of aliases', () => {
    const text = `d: &d {image: x, command: y}\nsteps:\n${Array(50).fill('  - *d').join('\n')}\n`;
    const document = read(text);
    expect(document.findings).toEqual([]);
    expect((document.value as { steps: unknown[] }).steps).toHaveLength(50);
  });

  it.each([
    ['an alias inside its anchor', 'a: &a [1, *a]\n'],
    ['a merge of its own mapping', 'a: &a {b: 1, <<: *a}\n'],
    ['an undefined alias', 'a: *nowhere\n'],
    ['a duplicate anchor', 'a: &x 1\nb: &x 2\nc: *x\n'],
  ])('refuses %s', (_name, text) => {
    const document = read(text);
    expect(document.value).toBeUndefined();
    expect(errors(document.findings)).toHaveLength(1);
    expect(document.findings[0]?.line).toBeGreaterThan(0);
  });

  it.each([
    ['[', '['.repeat(5000) + ']'.repeat(5000)],
    ['{a:', '{a: '.repeat(5000) + '1' + '}'.repeat(5000)],
    ['- ', '- '.repeat(5000) + '1'],
    [
      'block map',
      Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
    ],
  ])('refuses 5,000-deep %s nesting with a finding', (_name, text) => {
    const document = read(text);
    expect(document.value).toBeUndefined();
    expect(errors(document.findings)).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/^nesting deeper than 200 levels/),
      }),
    ]);
  });

  it.each([
    ['[', '['.repeat(1024 * 1024 - 1)],
    ['- ', '- '.repeat(512 * 1024 - 1)],
  ])('stops at once on a megabyte of %j', (_name, text) => {
    const document = read(text);
    expect(document.value).toBeUndefined();
    expect(errors(document.findings)[0]).toMatchObject({
      line: 1,
      message: expect.stringMatching(/^nesting deeper than 200 levels/),
    });
  });

  it('reads nesting of 200 levels', () => {
    const document = read('['.repeat(200) + ']'.repeat(200));
    expect(document.findings).toEqual([]);
  });

  it('refuses nesting built up through aliases', () => {
    const inner = '['.repeat(150) + ']'.repeat(150);
    const document = read(
      `a: &a ${inner}\nb: ${'['.repeat(100)}*a${']'.repeat(100)}\n`,
    );
    expect(document.value).toBeUndefined();
    expect(errors(document.findings)[0]?.message).toMatch(/^nesting deeper/);
  });

  it('refuses a 50 MB text without parsing it', () => {
    const document = read(`a: ${'x'.repeat(50 * 1024 * 1024)}\n`);
    expect(document.value).toBeUndefined();
    expect(document.findings).toEqual([
      expect.objectContaining({
        line: 0,
        message: expect.stringMatching(/larger than 1048576 bytes/),
      }),
    ]);
  });

  it('measures maxBytes in UTF-8 bytes', () => {
    expect(read('a: é\n', 7).findings).toEqual([]);
    expect(read('a: éé\n', 7).findings).toHaveLength(1);
  });

  it.each([
    ['NUL', 'a: 1\nb: x\u0000y\n', 2, 5, 'U+0000'],
    ['ESC', 'a: "\u001b[31m"\n', 1, 5, 'U+001B'],
    ['DEL', 'a: \u007f\n', 1, 4, 'U+007F'],
  ])(
    'refuses a %s character with its position',
    (_name, text, line, column, code) => {
      const finding = onlyError(text);
      expect(finding).toMatchObject({ line, column });
      expect(finding.message).toContain(
        `control character ${code} at line ${line}, column ${column}`,
      );
    },
  );

  it('accepts U+FFFD replacement characters', () => {
    expect(read('a: \uFFFD\n').value).toEqual({ a: '\uFFFD' });
  });

  it.each([
    ['!include other.yaml', '!include'],
    ['!foo bar', '!foo'],
    ['!!foo bar', '!!foo'],
    ['!<tag:example.com,2000:x> 1', 'tag:example.com,2000:x'],
  ])('refuses the custom tag in %j', (source, tag) => {
    const finding = onlyError(`a: 1\nv: ${source}\n`);
    expect(finding.message).toBe(
      `custom YAML tags are not allowed: ${tag} at line 2; remove the tag`,
    );
    expect(finding.line).toBe(2);
  });

  it.each([
    ['!!binary aGk=', 'binary'],
    ['!!set {a, b}', 'set'],
    ['!!timestamp 2001-12-14', 'timestamp'],
    ['!!omap [a: 1]', 'omap'],
    ['!!pairs [a: 1, a: 2]', 'pairs'],
    ['!!merge x', 'merge'],
    ['!!value x', 'value'],
    ['!!yaml x', 'yaml'],
    ['!<tag:yaml.org,2002:binary> aGk=', 'binary'],
  ])('names %j as a YAML standard tag kiln does not accept', (source, name) => {
    const finding = onlyError(`a: 1\nv: ${source}\n`);
    expect(finding.message).toBe(
      `the YAML standard tag !!${name} at line 2 is not accepted: kiln reads only strings, numbers, booleans, null, lists and mappings (the tags !!str, !!int, !!float, !!bool, !!null, !!seq, !!map); remove the tag`,
    );
    expect(finding.line).toBe(2);
  });

  it('names a PyYAML object tag as such', () => {
    const finding = onlyError('a: 1\nv: !!python/object:os.system [ls]\n');
    expect(finding.message).toBe(
      "the PyYAML tag !!python/object:os.system at line 2 is not allowed: it builds Python objects, which neither Valohai's safe loader nor kiln reads; remove the tag",
    );
  });

  it.each([
    '%YAML 1.1\n---\na: 1\n',
    '%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n',
  ])('refuses the directive in %j', (text) => {
    const document = read(text);
    expect(document.value).toBeUndefined();
    expect(onlyError(text)).toMatchObject({ line: 1, column: 1 });
  });

  it('refuses several documents', () => {
    const document = read('a: 1\n---\nb: 2\n---\nc: 3\n');
    expect(document.value).toBeUndefined();
    expect(document.findings).toEqual([
      expect.objectContaining({
        line: 2,
        message: expect.stringMatching(/^one YAML document expected, found 3/),
      }),
    ]);
  });

  it('reports tab indentation with its position', () => {
    const document = read('a:\n\tb: 1\n');
    expect(document.value).toBeUndefined();
    expect(errors(document.findings)[0]).toMatchObject({ line: 2, column: 1 });
    expect(errors(document.findings)[0]?.message).toMatch(/tab/i);
  });

  it('reports parser errors on one clean line', () => {
    const document = read('a: 1\nb: c: d\n');
    expect(document.value).toBeUndefined();
    const finding = errors(document.findings)[0];
    expect(finding).toMatchObject({ line: 2, column: 4, path: '' });
    expect(finding?.message).not.toMatch(/[\n^]/);
  });

  it.each(['', '\n\n', '# only a comment\n', '---\n'])(
    'reads %j as null',
    (text) => {
      expect(read(text)).toMatchObject({ value: null, findings: [] });
    },
  );

  it('never throws, for any text', () => {
    const yamlish = fc.string({
      unit: fc.constantFrom(
        ...'-?:,[]{}#&*!|>\'"%@` \t\n\r\\ab1.<=~\u0000\uFEFF',
      ),
      maxLength: 60,
    });
    for (const text of [fc.string(), fc.string({ unit: 'binary' }), yamlish]) {
      fc.assert(
        fc.property(text, (source) => {
          const document = read(source);
          expect(Array.isArray(document.findings)).toBe(true);
          if (document.value === undefined) {
            expect(errors(document.findings).length).toBeGreaterThan(0);
          }
          document.positions.valueAt([0, 'a']);
        }),
        { numRuns: 1000 },
      );
    }
  });
});
