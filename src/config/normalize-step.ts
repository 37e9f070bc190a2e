/** Builds the normalised `Step` from a step mapping (best effort). */
import type {
  EnvironmentVariable,
  Input,
  Mount,
  MultipleMode,
  Parameter,
  ParameterType,
  Range,
  Resources,
  Step,
  StepOverride,
} from './config-model.js';
import { isMapping } from './describe-value.js';
import { parseDuration } from './parse-duration.js';
import {
  copyMapping,
  readBoolean,
  readExactNumber,
  readMappingItems,
  readNumber,
  readString,
  readStringList,
} from './read-field.js';

const parameterTypes: readonly string[] = [
  'string',
  'integer',
  'float',
  'flag',
];
const multipleModes: readonly string[] = ['none', 'repeat', 'separate'];

function nonEmpty(value: unknown): string | undefined {
  const text = readString(value);
  return text === undefined || text === '' ? undefined : text;
}

export function normalizeParameter(raw: Record<string, unknown>): Parameter {
  const type = (
    parameterTypes.includes(raw.type as string) ? raw.type : 'string'
  ) as ParameterType;
  const multiple = (
    multipleModes.includes(raw.multiple as string) ? raw.multiple : 'none'
  ) as MultipleMode;
  const parameter: Parameter = {
    name: readString(raw.name) ?? '',
    type,
    optional: type === 'flag' ? true : readBoolean(raw.optional, false),
    multiple,
    multipleSeparator: nonEmpty(raw['multiple-separator']) ?? ',',
  };
  if (raw.default !== undefined && raw.default !== null)
    parameter.default = raw.default;
  const description = readString(raw.description);
  if (description !== undefined) parameter.description = description;
  const passAs = nonEmpty(raw['pass-as']);
  if (passAs !== undefined) parameter.passAs = passAs;
  if (type === 'flag') {
    const passTrueAs = readString(raw['pass-true-as']);
    const passFalseAs = readString(raw['pass-false-as']);
    if (passTrueAs !== undefined) parameter.passTrueAs = passTrueAs;
    if (passFalseAs !== undefined) parameter.passFalseAs = passFalseAs;
  }
  if (Array.isArray(raw.choices) && raw.choices.length > 0) {
    parameter.choices = [...(raw.choices as unknown[])];
  }
  const min = readExactNumber(raw.min);
  const max = readExactNumber(raw.max);
  if (min !== undefined) parameter.min = min;
  if (max !== undefined) parameter.max = max;
  const category = readString(raw.category);
  if (category !== undefined) parameter.category = category;
  if (raw.widget !== undefined) parameter.widget = raw.widget;
  return parameter;
}

export function normalizeInput(raw: Record<string, unknown>): Input {
  const keep = raw['keep-directories'];
  const input: Input = {
    name: readString(raw.name) ?? '',
    default: readStringList(raw.default),
    optional: readBoolean(raw.optional, false),
    keepDirectories:
      keep === true || keep === 'full'
        ? 'full'
        : keep === 'suffix'
          ? 'suffix'
          : 'none',
    download: raw.download === 'on-demand' ? 'on-demand' : 'always',
  };
  const description = readString(raw.description);
  if (description !== undefined) input.description = description;
  const filename = readString(raw.filename);
  if (filename !== undefined) input.filename = filename;
  return input;
}

function normalizeEnvironmentVariable(
  raw: Record<string, unknown>,
): EnvironmentVariable {
  const variable: EnvironmentVariable = {
    name: readString(raw.name) ?? '',
    optional: readBoolean(raw.optional, true),
  };
  const value = readString(raw.default);
  if (value !== undefined) variable.default = value;
  const description = readString(raw.description);
  if (description !== undefined) variable.description = description;
  return variable;
}

function normalizeMounts(value: unknown): Mount[] {
  if (!Array.isArray(value)) return [];
  const mounts: Mount[] = [];
  for (const item of value) {
    if (typeof item === 'string') {
      const colon = item.indexOf(':');
      if (colon < 0) continue;
      mounts.push({
        source: item.slice(0, colon),
        destination: item.slice(colon + 1),
        readonly: false,
      });
    } else if (isMapping(item)) {
      const mount: Mount = {
        source: readString(item.source) ?? '',
        destination: readString(item.destination) ?? '',
        readonly: readBoolean(item.readonly, false),
      };
      const type = readString(item.type);
      if (type !== undefined) mount.type = type;
      if (isMapping(item.options)) mount.options = copyMapping(item.options);
      mounts.push(mount);
    }
  }
  return mounts;
}

function normalizeRange(value: unknown): Range | undefined {
  if (!isMapping(value)) return undefined;
  const range: Range = {};
  const min = readNumber(value.min);
  const max = readNumber(value.max);
  if (min !== undefined) range.min = min;
  if (max !== undefined) range.max = max;
  return range;
}

export function normalizeResources(value: unknown): Resources | undefined {
  if (!isMapping(value)) return undefined;
  const resources: Resources = {};
  const cpu = normalizeRange(value.cpu);
  const memory = normalizeRange(value.memory);
  if (cpu !== undefined) resources.cpu = cpu;
  if (memory !== undefined) resources.memory = memory;
  if (isMapping(value.devices)) {
    const devices = Object.create(null) as Record<string, number>;
    for (const [name, count] of Object.entries(value.devices)) {
      const number = readNumber(count);
      if (number !== undefined) devices[name] = number;
    }
    resources.devices = devices;
  }
  return resources;
}

function mapItems<T>(
  value: unknown,
  normalize: (raw: Record<string, unknown>) => T,
): T[] {
  return readMappingItems(value).map(({ item }) => normalize(item));
}

export function normalizeStep(raw: Record<string, unknown>): Step {
  const step: Step = {
    name: readString(raw.name) ?? '',
    image: readString(raw.image) ?? '',
    command: readStringList(raw.command),
    parameters: mapItems(raw.parameters, normalizeParameter),
    inputs: mapItems(raw.inputs, normalizeInput),
    outputs: readMappingItems(raw.outputs).map(({ item }) => {
      const description = readString(item.description);
      return description === undefined
        ? { name: readString(item.name) ?? '' }
        : { name: readString(item.name) ?? '', description };
    }),
    environmentVariables: mapItems(
      raw['environment-variables'],
      normalizeEnvironmentVariable,
    ),
    environmentVariableGroups: readStringList(
      raw['environment-variable-groups'],
    ),
    mounts: normalizeMounts(raw.mounts),
    cacheVolumes: readStringList(raw['cache-volumes']),
    network: readBoolean(raw.network, false),
  };
  const optional: [keyof Step, string][] = [
    ['description', 'description'],
    ['environment', 'environment'],
    ['runtimeConfigPreset', 'runtime-config-preset'],
    ['uploadStore', 'upload-store'],
    ['icon', 'icon'],
    ['category', 'category'],
    ['sourcePath', 'source-path'],
    ['stopCondition', 'stop-condition'],
  ];
  const target = step as unknown as Record<string, unknown>;
  for (const [field, key] of optional) {
    const text = readString(raw[key]);
    if (text !== undefined) target[field] = text;
  }
  const resources = normalizeResources(raw.resources);
  if (resources !== undefined) step.resources = resources;
  const timeLimit = parseDuration(raw['time-limit']);
  if (timeLimit !== undefined) step.timeLimit = timeLimit;
  const noOutputTimeout = parseDuration(raw['no-output-timeout']);
  if (noOutputTimeout !== undefined) step.noOutputTimeout = noOutputTimeout;
  return step;
}

export function normalizeOverride(raw: Record<string, unknown>): StepOverride {
  const override: StepOverride = {};
  if (raw.command !== undefined) override.command = readStringList(raw.command);
  const image = readString(raw.image);
  if (image !== undefined) override.image = image;
  const environment = readString(raw.environment);
  if (environment !== undefined) override.environment = environment;
  const preset = readString(raw['runtime-config-preset']);
  if (preset !== undefined) override.runtimeConfigPreset = preset;
  if (Array.isArray(raw['environment-variables'])) {
    override.environmentVariables = mapItems(
      raw['environment-variables'],
      normalizeEnvironmentVariable,
    );
  }
  if (Array.isArray(raw.inputs))
    override.inputs = mapItems(raw.inputs, normalizeInput);
  if (Array.isArray(raw.mounts)) override.mounts = normalizeMounts(raw.mounts);
  if (Array.isArray(raw.parameters)) {
    override.parameters = mapItems(raw.parameters, normalizeParameter);
  }
  return override;
}
