/**
 * The notebook runner in JupyterLab: run the current notebook now, schedule it, and the
 * "My runs" view of the user's runs and schedules.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { h } from './dom';
import { duration } from './model';
import { Api } from './panel';
import { jsonBody, serverURL, ServiceError } from './request';

export interface IRun {
  id: number;
  item: string | null;
  path: string | null;
  status: string;
  created: string;
  started: string | null;
  finished: string | null;
  error: string | null;
  notebook_url: string | null;
}

export interface ISchedule {
  id: number;
  item: string | null;
  path: string | null;
  cron: string;
  next_run: string | null;
}

/** The parameters JSON a user typed: an object, or an Error saying what is wrong. */
export function parseParameters(text: string): Record<string, unknown> | Error {
  if (!text.trim()) {
    return {};
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return new Error(`the parameters are not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return new Error('the parameters must be a JSON object such as {"year": 2024}');
  }
  return value as Record<string, unknown>;
}

class FormBody extends Widget {
  readonly fields: Record<string, HTMLInputElement | HTMLTextAreaElement> = {};
  constructor(intro: string, fields: { name: string; label: string; placeholder: string; multiline?: boolean }[]) {
    super();
    this.addClass('sc-dialog');
    this.node.append(h('p', {}, intro));
    for (const field of fields) {
      const input = field.multiline
        ? h('textarea', { rows: '4', class: 'jp-mod-styled', placeholder: field.placeholder, 'aria-label': field.label })
        : h('input', { class: 'jp-mod-styled', placeholder: field.placeholder, 'aria-label': field.label });
      this.fields[field.name] = input;
      this.node.append(h('label', {}, field.label, input));
    }
  }
  getValue(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.fields).map(([k, v]) => [k, v.value]));
  }
}

async function ask(title: string, body: FormBody, accept: string): Promise<Record<string, string> | null> {
  const result = await showDialog({
    title,
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: accept })]
  });
  return result.button.accept ? result.value : null;
}

/** "Run this notebook with the runner": asks for parameters, starts the run; the message to show. */
export async function runNotebook(api: Api, path: string): Promise<string | null> {
  const body = new FormBody(`Run ${path} now in a fresh container, with papermill.`, [
    { name: 'parameters', label: 'Parameters (JSON, optional)', placeholder: '{"year": 2024}', multiline: true }
  ]);
  const values = await ask('Run with the runner', body, 'Run');
  if (!values) {
    return null;
  }
  const parameters = parseParameters(values.parameters);
  if (parameters instanceof Error) {
    throw parameters;
  }
  const run: IRun = await api('runner/api/runs', jsonBody('POST', { path, parameters }));
  return `Run ${run.id} of ${path} is ${run.status}: see My runs.`;
}

/** "Schedule this notebook": asks for a cron expression and parameters. */
export async function scheduleNotebook(api: Api, path: string): Promise<string | null> {
  const body = new FormBody(`Run ${path} regularly (times are UTC).`, [
    { name: 'cron', label: 'When (cron expression)', placeholder: '0 6 * * 1' },
    { name: 'parameters', label: 'Parameters (JSON, optional)', placeholder: '{"year": 2024}', multiline: true }
  ]);
  const values = await ask('Schedule with the runner', body, 'Schedule');
  if (!values) {
    return null;
  }
  const parameters = parameters_or_throw(values.parameters);
  const schedule: ISchedule = await api(
    'runner/api/schedules',
    jsonBody('POST', { path, cron: values.cron.trim(), parameters })
  );
  return `Scheduled ${path} (${schedule.cron}); next run ${schedule.next_run ?? 'unknown'}.`;
}

function parameters_or_throw(text: string): Record<string, unknown> {
  const parameters = parseParameters(text);
  if (parameters instanceof Error) {
    throw parameters;
  }
  return parameters;
}

/** "My runs": the user's runs (newest first) and schedules. */
export class RunsView extends Widget {
  private readonly api: Api;
  private readonly status: HTMLElement;
  private readonly runs: HTMLTableSectionElement;
  private readonly schedules: HTMLTableSectionElement;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(api: Api) {
    super();
    this.api = api;
    this.id = 'statcommons-runs';
    this.addClass('sc-RunsView');
    this.title.label = 'My runs';
    this.title.closable = true;
    this.status = h('div', { class: 'sc-status', role: 'status', 'aria-live': 'polite' });
    this.runs = h('tbody');
    this.schedules = h('tbody');
    const refresh = h('button', { class: 'jp-mod-styled' }, 'Refresh');
    refresh.addEventListener('click', () => void this.load());
    this.node.append(
      h('h1', {}, 'My runs'),
      refresh,
      this.status,
      h(
        'table',
        { class: 'sc-table sc-runs' },
        h('thead', {}, h('tr', {}, ...['Run', 'Notebook', 'Status', 'Started', 'Duration', 'Error', 'Result'].map(t => h('th', {}, t)))),
        this.runs
      ),
      h('h2', {}, 'Schedules'),
      h(
        'table',
        { class: 'sc-table sc-schedules' },
        h('thead', {}, h('tr', {}, ...['Schedule', 'Notebook', 'When', 'Next run', ''].map(t => h('th', {}, t)))),
        this.schedules
      )
    );
  }

  async load(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    let runs: IRun[];
    let schedules: ISchedule[];
    try {
      [{ runs }, { schedules }] = await Promise.all([this.api('runner/api/runs?limit=50'), this.api('runner/api/schedules')]);
    } catch (error) {
      this.status.classList.add('sc-error');
      this.status.textContent = error instanceof ServiceError ? error.message : String(error);
      return;
    }
    this.status.classList.remove('sc-error');
    this.status.textContent = runs.length ? '' : 'No runs yet: use “Run this notebook with the runner” on a notebook.';
    this.runs.replaceChildren(
      ...runs.map(run =>
        h(
          'tr',
          { 'data-run': String(run.id) },
          h('td', {}, String(run.id)),
          h('td', {}, run.path ?? `library: ${run.item}`),
          h('td', { class: `sc-run sc-run-${run.status}` }, run.status),
          h('td', {}, run.started ? run.started.replace('T', ' ').slice(0, 19) : ''),
          h('td', {}, duration(run.started, run.finished)),
          h('td', { class: 'sc-run-error' }, run.error ?? ''),
          h(
            'td',
            {},
            run.notebook_url
              ? h('a', { href: serverURL(`runner/api/runs/${run.id}/notebook`), download: `run-${run.id}.ipynb` }, 'Executed notebook')
              : ''
          )
        )
      )
    );
    this.schedules.replaceChildren(
      ...schedules.map(schedule => {
        const remove = h('button', { class: 'jp-mod-styled jp-mod-warn' }, 'Delete');
        remove.addEventListener('click', async () => {
          try {
            await this.api(`runner/api/schedules/${schedule.id}`, { method: 'DELETE' });
            await this.load();
          } catch (error) {
            this.status.textContent = error instanceof ServiceError ? error.message : String(error);
          }
        });
        return h(
          'tr',
          { 'data-schedule': String(schedule.id) },
          h('td', {}, String(schedule.id)),
          h('td', {}, schedule.path ?? `library: ${schedule.item}`),
          h('td', {}, schedule.cron),
          h('td', {}, schedule.next_run ?? ''),
          h('td', {}, remove)
        );
      })
    );
    if (runs.some(r => r.status === 'queued' || r.status === 'running') && !this.isDisposed) {
      this.timer = setTimeout(() => void this.load(), 3000);
    }
  }

  dispose(): void {
    if (this.timer) {
      clearTimeout(this.timer);
    }
    super.dispose();
  }
}
