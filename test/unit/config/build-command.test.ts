import { describe, expect, it } from 'vitest';
import {
  buildCommand,
  CommandTooLongError,
  ParameterRenderError,
} from '../../../src/config/build-command.js';
import type { Parameter } from '../../../src/config/config-model.js';
import { PyFloat } from '../../../src/config/py-scalars.js';
import { makeParameter, makeStep } from '../../helpers/config-builders.js';

type ParameterFields = Partial<Parameter> & { name: string };

function build(
  command: string | string[],
  parameters: ParameterFields[],
  values: Record<string, unknown>,
  sourcePath?: string,
): string[] {
  const step = makeStep({
    command: Array.isArray(command) ? command : [command],
    parameters: parameters.map(makeParameter),
    ...(sourcePath === undefined ? {} : { sourcePath }),
  });
  return buildCommand(step, values);
}

const lr: ParameterFields = { name: 'lr', type: 'float' };
const title: ParameterFields = { name: 'title' };

describe('buildCommand placeholders', () => {
  it.each<[string, string[], Record<string, unknown>, string]>([
    [
      'run {parameters}',
      ['lr', 'title'],
      { lr: new PyFloat(0.1), title: 'a b' },
      "run --lr=0.1 '--title=a b'",
    ],
    ['run {params}', ['lr', 'title'], { lr: new PyFloat(0.1) }, 'run --lr=0.1'],
    ['run {parameters} end', ['lr'], {}, 'run  end'],
    ['run {parameter:title}', ['title'], { title: 'x' }, 'run --title=x'],
    ['run {parameter:title}.', ['title'], {}, 'run .'],
    ['run {parameter:nope}', ['title'], { title: 'x' }, 'run {parameter:nope}'],
    [
      'run {parameter-value:title}',
      ['title'],
      { title: "it's" },
      `run 'it'"'"'s'`,
    ],
    [
      'run {parameter-value:lr}',
      ['lr'],
      { lr: new PyFloat(1e-5) },
      'run 1e-05',
    ],
    [
      'run {parameter-value:title}',
      ['title'],
      {},
      'run {parameter-value:title}',
    ],
    [
      'run {parameter-value:nope}',
      ['title'],
      { title: 'x' },
      'run {parameter-value:nope}',
    ],
    [
      'echo ${HOME} {unknown} $((1+2))',
      ['title'],
      { title: 'x' },
      'echo ${HOME} {unknown} $((1+2))',
    ],
    [
      '{parameters}{parameters}',
      ['title'],
      { title: 'x' },
      '--title=x--title=x',
    ],
    ['{}', ['title'], { title: 'x' }, '{}'],
    ['{}parameters}', ['title'], { title: 'x' }, '{}parameters}'],
    ['{a{parameters}', ['title'], { title: 'x' }, '{a{parameters}'],
    ['{{parameters}', ['title'], { title: 'x' }, '{{parameters}'],
    ['{x}{parameters}', ['title'], { title: 'x' }, '{x}--title=x'],
    [
      '{param\neters} {params}',
      ['title'],
      { title: 'x' },
      '{param\neters} --title=x',
    ],
    ['   padded {params}  \n', ['title'], { title: 'x' }, 'padded --title=x'],
    ['{parameters:title}', ['title'], { title: 'x' }, '{parameters:title}'],
    ['{ parameters }', ['title'], { title: 'x' }, '{ parameters }'],
  ])('%j → %j', (command, names, values, expected) => {
    const parameters = names.map((name) => (name === 'lr' ? lr : { name }));

    expect(build(command, parameters, values)).toEqual([expected]);
  });

  it('replaces {source-path} with the quoted path when the step has one', () => {
    expect(build('python {source-path}', [], {}, 'src/my train.py')).toEqual([
      "python 'src/my train.py'",
    ]);
    expect(build('python {source-path}', [], {})).toEqual([
      'python {source-path}',
    ]);
  });

  it('keeps one output item per command item, inner newlines included', () => {
    const command = ['  a  ', '', 'b\n  c {params}\n', '#!/bin/sh\necho hi'];

    expect(build(command, [title], { title: 'x' })).toEqual([
      'a',
      '',
      'b\n  c --title=x',
      '#!/bin/sh\necho hi',
    ]);
  });

  it('renders parameters in declaration order, a repeated name at its first position', () => {
    const parameters = [
      { name: 'b' },
      { name: 'a' },
      { name: 'b', passAs: '-b {v}' },
    ];

    expect(build('{parameters}', parameters, { a: '1', b: '2' })).toEqual([
      '-b 2 --a=1',
    ]);
  });

  it('stays linear on a line full of unmatched braces', () => {
    const command = `${'{'.repeat(200_000)}x`;

    expect(build(command, [title], { title: 'x' })).toEqual([command]);
  });

  it('refuses to build a command that grows without bound', () => {
    const parameters = [{ name: 'title', default: 'x'.repeat(10_000) }];
    const command = '{parameters}'.repeat(2_000);

    expect(() =>
      build(command, parameters, { title: 'x'.repeat(10_000) }),
    ).toThrow(CommandTooLongError);
  });
});

describe('buildCommand pass-as', () => {
  it.each<[ParameterFields, unknown, string]>([
    [{ name: 'n', type: 'integer' }, 5, '--n=5'],
    [{ name: 'n', passAs: '-n {v}' }, 'a b', "-n 'a b'"],
    [{ name: 'n', passAs: '-n {value}' }, '3', '-n 3'],
    [{ name: 'n', passAs: '{v}' }, 'pos', 'pos'],
    [{ name: 'n', passAs: '--{name} {v}' }, 'x', '--n x'],
    [{ name: 'n', passAs: '--{name}={v}\t{v}' }, 'x', '--n=x x'],
    [{ name: 'n', passAs: '-n={v}' }, '', '-n='],
    [{ name: 'n' }, '', '--n='],
    [{ name: 'n', passAs: '{v}' }, '', "''"],
    [{ name: 'n', passAs: '' }, 'x', '--n=x'],
    [{ name: 'n', type: 'float' }, new PyFloat(1), '--n=1.0'],
    [{ name: 'n', type: 'float' }, new PyFloat(1e16), '--n=1e+16'],
    [{ name: 'n', passAs: '--x=$HOME/{v}' }, 'd', "'--x=$HOME/d'"],
    [{ name: 'n', passAs: '--x={{v}}' }, 'd', "'--x={v}'"],
    [{ name: 'n', passAs: '--x={{{v}}}' }, 'd', "'--x={d}'"],
  ])('%j with %j → %j', (parameter, value, expected) => {
    expect(build('{parameters}', [parameter], { n: value })).toEqual([
      expected,
    ]);
  });
});

describe('buildCommand pass-as format specs (Python str.format)', () => {
  it.each<[ParameterFields, unknown, string]>([
    [{ name: 'n', type: 'integer', passAs: '--n={v:03d}' }, 7, '--n=007'],
    [{ name: 'n', type: 'integer', passAs: '--n={v:>4}' }, 7, "'--n=   7'"],
    [{ name: 'n', type: 'integer', passAs: '--n={v:*<4}' }, 7, "'--n=7***'"],
    [{ name: 'n', type: 'integer', passAs: '--n={v:^5}' }, 7, "'--n=  7  '"],
    [{ name: 'n', type: 'integer', passAs: '--n={v:+d}' }, 7, '--n=+7'],
    [
      { name: 'n', type: 'integer', passAs: '--n={v:,}' },
      1234567,
      '--n=1,234,567',
    ],
    [
      { name: 'n', type: 'integer', passAs: '--n={v:_}' },
      1234567,
      '--n=1_234_567',
    ],
    [{ name: 'n', type: 'integer', passAs: '--n={v:#x}' }, 255, '--n=0xff'],
    [{ name: 'n', type: 'integer', passAs: '--n={v:o}' }, 8, '--n=10'],
    [{ name: 'n', type: 'integer', passAs: '--n={v:b}' }, 5, '--n=101'],
    [{ name: 'n', type: 'integer', passAs: '--n={v:.2f}' }, 7, '--n=7.00'],
    [
      { name: 'n', type: 'integer', passAs: '--n={v:,}' },
      9007199254740993n,
      '--n=9,007,199,254,740,993',
    ],
    [
      { name: 'lr', type: 'float', passAs: '--lr={v:.3f}' },
      new PyFloat(0.0005),
      '--lr=0.001',
    ],
    [
      { name: 'lr', type: 'float', passAs: '--lr={v:.2e}' },
      new PyFloat(1e-5),
      '--lr=1.00e-05',
    ],
    [
      { name: 'lr', type: 'float', passAs: '--lr={v:g}' },
      new PyFloat(1e-5),
      '--lr=1e-05',
    ],
    [
      { name: 'lr', type: 'float', passAs: '--lr={v:.1%}' },
      new PyFloat(0.25),
      '--lr=25.0%',
    ],
    [
      { name: 'lr', type: 'float', passAs: '--lr={v:.2f}' },
      new PyFloat(0.125),
      '--lr=0.12',
    ],
    [{ name: 's', passAs: '--s={v:.2}' }, 'abc', '--s=ab'],
    [{ name: 's', passAs: '--s={v:s}' }, 'abc', '--s=abc'],
    [{ name: 's', passAs: '--s={v!r}' }, "it's", `'--s="it'"'"'s"'`],
    [{ name: 's', passAs: '--s={v!a}' }, 'é', "'--s='\"'\"'\\xe9'\"'\"''"],
    [{ name: 'n', passAs: '--{name:>3}={v}' }, 'x', "'--  n=x'"],
    [{ name: 'n', type: 'integer', passAs: '{{{v:02d}}}' }, 3, "'{03}'"],
  ])('%j with %s → %j', (parameter, value, expected) => {
    expect(
      build('{parameters}', [parameter], { [parameter.name]: value }),
    ).toEqual([expected]);
  });

  it.each<[Partial<Parameter>, unknown[], string]>([
    [{ multiple: 'repeat', passAs: '-i {v:03d}' }, [1, 22], '-i 001 -i 022'],
    [
      { multiple: 'separate', passAs: '--ids={v:>6}' },
      [1, 2],
      "'--ids=   1,2'",
    ],
  ])('%j with %j → %j', (fields, value, expected) => {
    const parameter = { name: 'ids', type: 'integer' as const, ...fields };

    expect(build('{parameters}', [parameter], { ids: value })).toEqual([
      expected,
    ]);
  });

  it.each<[Partial<Parameter>, boolean, string]>([
    [{ passTrueAs: '--f={v:d}', passFalseAs: '--f={v:d}' }, true, '--f=1'],
    [{ passTrueAs: '--f={v:d}', passFalseAs: '--f={v:d}' }, false, '--f=0'],
    [{ passTrueAs: '--f={v}' }, true, '--f=True'],
    [{ passTrueAs: '--f={v:>5}' }, true, "'--f=    1'"],
  ])('flag %j with %s → %j', (fields, value, expected) => {
    expect(
      build('{parameters}', [{ name: 'f', type: 'flag', ...fields }], {
        f: value,
      }),
    ).toEqual([expected]);
  });

  it.each<[ParameterFields, unknown]>([
    [{ name: 'n', passAs: '-n {other} {v}' }, 'x'],
    [{ name: 'n', type: 'integer', passAs: '--n={v:c}' }, 0x110000],
    [{ name: 'lr', type: 'float', passAs: '--lr={v:d}' }, new PyFloat(1)],
  ])('refuses %j with %s', (parameter, value) => {
    expect(() =>
      build('{parameters}', [parameter], { [parameter.name]: value }),
    ).toThrow(ParameterRenderError);
  });
});

describe('buildCommand flags', () => {
  it.each<[Partial<Parameter>, boolean | undefined, string]>([
    [{}, true, '--f'],
    [{}, false, ''],
    [{}, undefined, ''],
    [{ passAs: '-f' }, true, '-f'],
    [{ passAs: '--{name}={v}' }, true, '--f=True'],
    [{ passAs: '--{name}={v}' }, false, ''],
    [{ passTrueAs: '--yes', passFalseAs: '--no' }, true, '--yes'],
    [{ passTrueAs: '--yes', passFalseAs: '--no' }, false, '--no'],
    [{ passTrueAs: '--yes' }, true, '--yes'],
    [{ passTrueAs: '--yes' }, false, ''],
    [{ passFalseAs: '--no' }, true, ''],
    [{ passFalseAs: '--no' }, false, '--no'],
    // Valohai skips a parameter with no value before choosing a template.
    [{ passFalseAs: '--no' }, undefined, ''],
    [{ passTrueAs: '--yes', passFalseAs: '--no' }, undefined, ''],
    [
      { passTrueAs: '--{name}={v}', passFalseAs: '--{name}={v}' },
      false,
      '--f=False',
    ],
    [{ passTrueAs: '', passFalseAs: '' }, true, '--f'],
    [{ passTrueAs: '--yes', passAs: '--ignored' }, true, '--yes'],
    [{ passTrueAs: 'use {name} now' }, true, 'use f now'],
  ])('%j with %s → %j', (fields, value, expected) => {
    const values = value === undefined ? {} : { f: value };

    expect(
      build('{parameters}', [{ name: 'f', type: 'flag', ...fields }], values),
    ).toEqual([expected]);
  });
});

describe('buildCommand multiple', () => {
  it.each<[Partial<Parameter>, unknown[], string]>([
    [{ multiple: 'repeat' }, [1, 2], '--ids=1 --ids=2'],
    [{ multiple: 'repeat', passAs: '-i {v}' }, ['a b', 'c'], "-i 'a b' -i c"],
    [{ multiple: 'repeat' }, [], ''],
    [{ multiple: 'separate' }, [1, 2], '--ids=1,2'],
    [{ multiple: 'separate', multipleSeparator: '-' }, [1, 2], '--ids=1-2'],
    [
      { multiple: 'separate', multipleSeparator: ' ' },
      ['a', 'b'],
      "'--ids=a b'",
    ],
    [{ multiple: 'separate' }, [], ''],
    [
      { multiple: 'separate' },
      [new PyFloat(0.5), new PyFloat(1)],
      '--ids=0.5,1.0',
    ],
    [{ multiple: 'separate', passAs: '{v}' }, ['x'], 'x'],
  ])('%j with %j → %j', (fields, value, expected) => {
    const parameter = { name: 'ids', type: 'integer' as const, ...fields };

    expect(build('{parameters}', [parameter], { ids: value })).toEqual([
      expected,
    ]);
  });

  it('renders a list value alone as Python prints the list', () => {
    const parameter = { name: 'ids', multiple: 'repeat' as const };

    expect(
      build('{parameter-value:ids}', [parameter], { ids: ['a', 1] }),
    ).toEqual([`'['"'"'a'"'"', 1]'`]);
  });
});
