/**
 * `kiln plan`: reads one config file and shows what would run. With
 * `--all --json` it prints exactly the PlanJson of docs plan-json.md on
 * stdout and nothing else (findings go to stderr only in text mode).
 */
import { formatSuggestion } from '../../config/closest-name.js';
import { formatFinding } from '../../config/finding.js';
import type { LoadedConfig } from '../../config/load-config.js';
import { loadConfig } from '../../config/load-config.js';
import type { PlanJson } from '../../config/plan.js';
import { planFile, planPipeline, planStep } from '../../config/plan.js';
import { formatNamedPlan, formatPlanJsonText } from '../format-plan-text.js';
import { parseParamPairs } from '../parse-param-pairs.js';
import { planNamed } from '../../orchestrator/plan-named.js';
import { readConfigFile } from '../read-config-file.js';

export interface PlanOptions {
  param: string[];
  all?: boolean;
  json?: boolean;
}

/** The two optional positionals, before we know which is NAME and FILE. */
export interface PlanArguments {
  first?: string;
  second?: string;
}

/** Exit status: 0 fine, 1 invalid file or bad parameters, 2 usage error. */
export async function planAction(
  args: PlanArguments,
  options: PlanOptions,
): Promise<number> {
  const target = splitArguments(args, options);
  if ('usage' in target) return fail(options, target.usage, 2);
  let overrides: Record<string, string>;
  try {
    overrides = parseParamPairs(options.param);
  } catch (error) {
    return fail(options, (error as Error).message, 2);
  }
  if (target.name === undefined && Object.keys(overrides).length > 0) {
    return fail(options, '--param needs a step or pipeline NAME', 2);
  }

  let source: { file: string; text: string };
  try {
    source = await readConfigFile(target.file ?? '.');
  } catch (error) {
    return fail(options, (error as Error).message, 1);
  }
  const loaded = loadConfig(source.text, { file: source.file });

  if (target.name === undefined) {
    const plan = planFile(loaded);
    if (options.json) printJson(plan);
    else {
      printFindings(loaded);
      process.stdout.write(formatPlanJsonText(plan));
    }
    return plan.valid ? 0 : 1;
  }
  return planOne(loaded, target.name, { overrides, json: options.json });
}

function planOne(
  loaded: LoadedConfig,
  name: string,
  options: { overrides: Record<string, string>; json?: boolean },
): number {
  if (!options.json) printFindings(loaded);
  const { config } = loaded;
  const plan = loaded.plannable
    ? planNamed(config, name, options.overrides)
    : undefined;
  if (!plan) {
    const known = [
      ...config.steps.map((step) => step.name),
      ...config.pipelines.map((pipeline) => pipeline.name),
      ...config.tasks.map((task) => task.name),
    ];
    const message = loaded.plannable
      ? `${loaded.file} has no step, pipeline or task "${name}"${formatSuggestion(name, known)} (available: ${known.join(', ') || 'none'})`
      : `${loaded.file} cannot be planned; fix the errors above`;
    if (options.json) printJson(withErrors(planFile(loaded), [message]));
    else process.stderr.write(`kiln: ${message}\n`);
    return 1;
  }
  for (const message of plan.errors) {
    process.stderr.write(`kiln: ${message}\n`);
  }
  if (options.json) {
    const whole = planFile(loaded);
    const pipeline = config.pipelines.find((item) => item.name === name);
    const step = config.steps.find((item) => item.name === name);
    printJson(
      withErrors(
        {
          ...whole,
          steps: pipeline
            ? []
            : step
              ? [withCommand(planStep(step), plan)]
              : [],
          pipelines: pipeline ? [planPipeline(pipeline)] : [],
        },
        plan.errors,
      ),
    );
  } else {
    process.stdout.write(formatNamedPlan(plan));
  }
  return loaded.valid && plan.errors.length === 0 ? 0 : 1;
}

/** A single step's JSON shows the command with the user's values. */
function withCommand(
  step: PlanJson['steps'][number],
  plan: ReturnType<typeof planNamed>,
): PlanJson['steps'][number] {
  return { ...step, command: plan?.nodes[0]?.commands ?? null };
}

function withErrors(plan: PlanJson, errors: string[]): PlanJson {
  if (errors.length === 0) return plan;
  return { ...plan, valid: false, errors: [...plan.errors, ...errors] };
}

function splitArguments(
  args: PlanArguments,
  options: PlanOptions,
): { name?: string; file?: string } | { usage: string } {
  const { first, second } = args;
  if (options.all) {
    if (second !== undefined) {
      return { usage: '--all plans the whole file; give only FILE' };
    }
    return { file: first };
  }
  if (second !== undefined) return { name: first, file: second };
  if (first !== undefined && looksLikeFile(first)) return { file: first };
  return { name: first };
}

/** `kiln plan kiln.yaml` and `kiln plan ./dir` name a file, not a step. */
function looksLikeFile(argument: string): boolean {
  return (
    /\.ya?ml$/i.test(argument) || argument.includes('/') || argument === '.'
  );
}

function printFindings(loaded: LoadedConfig): void {
  for (const finding of loaded.findings) {
    process.stderr.write(`${formatFinding(finding)}\n`);
  }
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** With --json the answer is still one JSON object, never bare text. */
function fail(options: PlanOptions, message: string, status: number): number {
  if (options.json) {
    const plan: PlanJson = {
      valid: false,
      errors: [message],
      warnings: [],
      steps: [],
      pipelines: [],
    };
    printJson(plan);
  }
  process.stderr.write(`kiln: ${message}\n`);
  return status;
}
