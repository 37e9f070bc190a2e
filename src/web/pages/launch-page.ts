/**
 * The launch form, generated from the step's or pipeline's parameter
 * definitions at the chosen commit: types, choices as a select, min/max,
 * defaults — prefilled from a run when copying it (`?from=RUN`). The
 * client shows the commands the launch would run as values change
 * (`POST /api/runs/preview`) and submits to `POST /api/runs`.
 */
import type { Config, Parameter } from '../../config/config-model.js';
import type { RunRecord } from '../../model/run.js';
import { pythonStr } from '../../config/python-str.js';
import { html, type SafeHtml } from '../html.js';

export interface LaunchPageData {
  repositories: string[];
  repository?: string;
  at?: string;
  name?: string;
  config?: Config;
  commit?: string;
  problem?: string;
  /** The run being copied. */
  from?: RunRecord;
  /** Values to prefill (the copied run's parameters), as text. */
  values?: Record<string, string>;
  /** Only admins launch; others see the form and the preview. */
  canLaunch?: boolean;
}

export interface LaunchField {
  name: string;
  parameter: Pick<
    Parameter,
    'type' | 'choices' | 'min' | 'max' | 'default' | 'description'
  >;
}

export function renderLaunchPage(data: LaunchPageData): SafeHtml {
  const names = data.config
    ? [
        ...data.config.pipelines.map((pipeline) => `${pipeline.name}`),
        ...data.config.steps.map((step) => step.name),
      ]
    : [];
  const chooser = html`<form method="get" action="/launch" class="filters">
      <label
        >repository
        <select name="repository">
          ${data.repositories.map((name) => html`<option ${name === data.repository ? html`selected` : ''}>${name}</option>`)}
        </select></label
      >
      <label
        >branch, tag or SHA
        <input name="at" placeholder="main" value="${data.at ?? 'main'}"
      /></label>
      ${
        names.length > 0
          ? html`<label
              >step or pipeline
              <select name="name">
                ${names.map((name) => html`<option ${name === data.name ? html`selected` : ''}>${name}</option>`)}
              </select></label
            >`
          : ''
      }
      <button>
        ${names.length > 0 ? 'Show parameters' : 'Read configuration'}
      </button>
    </form>
    ${data.problem ? html`<p class="error" role="alert">${data.problem}</p>` : ''}`;
  if (!data.config || !data.name || !data.repository) return chooser;
  const fields = launchFields(data.config, data.name);
  const values = data.values ?? {};
  return html`${chooser}
    <form id="launch" class="panel">
      <input type="hidden" name="repository" value="${data.repository}" />
      <input type="hidden" name="at" value="${data.at ?? ''}" />
      <input type="hidden" name="name" value="${data.name}" />
      <p>
        ${data.from ? html`Copy of <a href="/runs/${data.from.id}">run #${data.from.counter}</a>: ` : ''}Launch
        <b>${data.name}</b> at
        <code>${data.at ?? ''}</code
        >${data.commit && data.commit !== data.at ? html` (<code>${data.commit.slice(0, 12)}</code>)` : ''}
      </p>
      <div class="scroll">
        <table class="launch-parameters">
          <tbody>
            ${fields.map((field) => renderField(field, values[field.name]))}
          </tbody>
        </table>
      </div>
      <h2>Command preview</h2>
      <div class="log">
        <pre
          class="log-lines short"
          id="launch-preview"
          aria-live="polite"
          style="margin:0;padding:.6em .8em"
        >
(the commands appear here)</pre>
      </div>
      <p class="actions">
        ${
          data.canLaunch === false
            ? html`<span class="muted">Launching needs an admin token.</span>`
            : html`<button type="submit" class="primary">Launch</button>`
        }
        <span id="launch-error" class="error" role="alert"></span>
      </p>
    </form>`;
}

/** The fields for one step or pipeline (pipeline: its own parameters, then NODE.PARAM). */
export function launchFields(config: Config, name: string): LaunchField[] {
  const pipeline = config.pipelines.find((item) => item.name === name);
  if (!pipeline) {
    const step = config.steps.find((item) => item.name === name);
    return (step?.parameters ?? []).map((parameter) => ({
      name: parameter.name,
      parameter,
    }));
  }
  const fields: LaunchField[] = pipeline.parameters.map((parameter) => ({
    name: parameter.name,
    parameter: {
      type: 'string',
      default: parameter.default,
      description: parameter.description,
    },
  }));
  for (const node of pipeline.nodes) {
    const step = config.steps.find((item) => item.name === node.step);
    for (const parameter of step?.parameters ?? []) {
      fields.push({ name: `${node.name}.${parameter.name}`, parameter });
    }
  }
  return fields;
}

function renderField(field: LaunchField, value?: string): SafeHtml {
  const { parameter } = field;
  // Defaults as Valohai would pass them (a YAML float stays `0.1`).
  const defaultText =
    parameter.default === undefined || parameter.default === null
      ? ''
      : pythonStr(parameter.default);
  const shown = value ?? defaultText;
  const id = `param-${field.name}`;
  let input: SafeHtml;
  if (parameter.choices && parameter.choices.length > 0) {
    input = html`<select
      id="${id}"
      data-param="${field.name}"
      data-default="${defaultText}"
    >
      ${parameter.choices.map((choice) => html`<option ${pythonStr(choice) === shown ? html`selected` : ''}>${pythonStr(choice)}</option>`)}
    </select>`;
  } else if (parameter.type === 'flag') {
    input = html`<input
      type="checkbox"
      id="${id}"
      data-param="${field.name}"
      ${(value === undefined ? parameter.default === true : value === 'true') ? html`checked` : ''}
    />`;
  } else if (parameter.type === 'integer' || parameter.type === 'float') {
    input = html`<input
      type="number"
      id="${id}"
      data-param="${field.name}"
      data-default="${defaultText}"
      value="${shown}"
      step="${parameter.type === 'integer' ? '1' : 'any'}"
      ${parameter.min !== undefined ? html`min="${parameter.min}"` : ''}
      ${parameter.max !== undefined ? html`max="${parameter.max}"` : ''}
    />`;
  } else {
    input = html`<input
      type="text"
      id="${id}"
      data-param="${field.name}"
      data-default="${defaultText}"
      value="${shown}"
    />`;
  }
  return html`<tr>
    <th><label for="${id}">${field.name}</label></th>
    <td>${input}</td>
    <td>
      <small
        >${parameter.type}${parameter.description ? ` — ${parameter.description}` : ''}</small
      >
    </td>
  </tr>`;
}
