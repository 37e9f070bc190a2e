import { describe, expect, it } from 'vitest';
import { mapLocalPath } from '../../../../src/runtime/local/map-local-path.js';

const paths = {
  '/valohai': '/work/exec',
  '/valohai/outputs': '/data/out/',
  '/valohai/repository': '/src/repo',
};

describe('mapLocalPath', () => {
  it.each([
    ['/valohai/outputs', '/data/out'],
    ['/valohai/outputs/model.pkl', '/data/out/model.pkl'],
    ['/valohai/repository', '/src/repo'],
    ['/valohai/config/parameters.json', '/work/exec/config/parameters.json'],
    ['/valohai/outputs2', '/work/exec/outputs2'],
    ['/valohaix', '/valohaix'],
    ['relative/valohai/outputs', 'relative/valohai/outputs'],
    ['1e-4', '1e-4'],
  ])('maps %s to %s', (value, expected) => {
    expect(mapLocalPath(value, paths)).toBe(expected);
  });

  it('leaves values alone without a map', () => {
    expect(mapLocalPath('/valohai/outputs', {})).toBe('/valohai/outputs');
  });
});
