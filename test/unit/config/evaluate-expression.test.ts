import { describe, expect, it } from 'vitest';
import { evaluateExpression } from '../../../src/config/evaluate-expression.js';

const scope = {
  metadata: {
    accuracy: 0.93,
    loss: 0.2,
    stop: 2,
    name: 'resnet',
    tags: '["a"]',
  },
  parameters: { lr: 0.01, mode: 'fast' },
};

describe('evaluateExpression', () => {
  it.each([
    ['accuracy > 0.9', true],
    ['metadata.accuracy > 0.95', false],
    ["metadata['loss'] <= 0.2", true],
    ['stop > 1', true],
    ['0.1 < loss < 0.3', true],
    ['0.3 < loss < 0.4', false],
    ['accuracy > 0.9 and loss < 0.1', false],
    ['accuracy > 0.9 or loss < 0.1', true],
    ['not accuracy > 0.9', false],
    ['parameters.mode == "fast"', true],
    ['parameter.lr * 10 == 0.1', true],
    ['name in ["resnet", "vgg"]', true],
    ['name not in ("resnet",)', false],
    ['missing is None', true],
    ['missing > 1', false],
    ['(stop + 1) ** 2 == 9', true],
    ['stop // 2 == 1 and stop % 2 == 0', true],
    ['-loss < 0', true],
    ['True', true],
  ])('%s → %s', (expression, value) => {
    expect(evaluateExpression(expression, scope)).toEqual({ ok: true, value });
  });

  it.each([
    ['import os', /expected an operator/],
    ['loss > ', /ended/],
    ['__import__("os").system("id")', /expected an operator at "\("/],
    ['loss; 1', /unexpected character ";"/],
    ['1 / 0 > 1', /division by zero/],
    ['x'.repeat(1001), /longer than 1000/],
    ['('.repeat(60) + '1' + ')'.repeat(60), /nests too deeply/],
  ])('refuses %s', (expression, message) => {
    const result = evaluateExpression(expression, scope);

    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toMatch(message);
  });
});
