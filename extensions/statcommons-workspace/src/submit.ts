/**
 * "Submit to library": a form prefilled from the notebook, checked in the browser with the
 * schema the library publishes, that sends the item with the notebook for review.
 */
import { Widget } from '@lumino/widgets';
import { h } from './dom';
import { Api } from './panel';
import { jsonBody, ServiceError, IProblem } from './request';
import { ItemValidator } from './validate';

interface IField {
  name: string;
  label: string;
  kind: 'text' | 'textarea' | 'list' | 'number';
  hint?: string;
}

const FIELDS: IField[] = [
  { name: 'title', label: 'Title', kind: 'text' },
  { name: 'summary', label: 'Summary (Markdown)', kind: 'textarea' },
  { name: 'authors', label: 'Authors', kind: 'list', hint: 'comma-separated' },
  { name: 'organisations', label: 'Organisations', kind: 'list', hint: 'comma-separated' },
  { name: 'year', label: 'Year', kind: 'number' },
  { name: 'languages', label: 'Languages', kind: 'list', hint: 'ISO 639-1 codes such as en, fr' },
  { name: 'topics', label: 'Topics', kind: 'list', hint: 'topic slugs such as record-linkage' },
  { name: 'gsbpm', label: 'GSBPM phases', kind: 'list', hint: 'codes such as 5 or 5.1' },
  { name: 'keywords', label: 'Keywords', kind: 'list', hint: 'comma-separated' },
  { name: 'licence', label: 'Licence', kind: 'text', hint: 'SPDX id such as CC-BY-4.0' }
];

export interface ISubmitFormOptions {
  api: Api;
  draft: Record<string, unknown>;
  /** The notebook's file name and content. */
  fileName: string;
  notebook: () => unknown;
  submitted: (item: { id: string; status: string }) => void;
}

/** A notebook file name the schema accepts for `notebook.attached`. */
export function attachedName(fileName: string): string {
  const name = fileName.split('/').pop() ?? 'notebook.ipynb';
  const clean = name.replace(/[\\/\u0000-\u001f]/g, '_');
  return clean.endsWith('.ipynb') ? clean : `${clean}.ipynb`;
}

export class SubmitForm extends Widget {
  private readonly inputs = new Map<string, HTMLInputElement | HTMLTextAreaElement>();
  private readonly errors = new Map<string, HTMLElement>();
  private readonly general: HTMLElement;
  private validator: ItemValidator | null = null;
  private loading: Promise<void> | null = null;
  private readonly options: ISubmitFormOptions;

  constructor(options: ISubmitFormOptions) {
    super();
    this.options = options;
    this.addClass('sc-SubmitForm');
    this.title.label = 'Submit to library';
    this.title.closable = true;
    const form = h('form', { class: 'sc-form', novalidate: true });
    form.append(h('h1', {}, 'Submit to the library'), h('p', {}, `Notebook: ${options.fileName}. Curators review it before it is published.`));
    for (const field of FIELDS) {
      const id = `sc-field-${field.name}-${Math.random().toString(36).slice(2, 8)}`;
      const input =
        field.kind === 'textarea'
          ? h('textarea', { id, rows: '5', class: 'jp-mod-styled', name: field.name })
          : h('input', { id, type: field.kind === 'number' ? 'number' : 'text', class: 'jp-mod-styled', name: field.name });
      const value = options.draft[field.name];
      input.value = Array.isArray(value) ? value.join(', ') : value === undefined ? '' : String(value);
      input.addEventListener('input', () => this.check(false));
      const error = h('div', { class: 'sc-field-error', 'aria-live': 'polite' });
      this.inputs.set(field.name, input);
      this.errors.set(field.name, error);
      form.append(
        h(
          'div',
          { class: 'sc-field', 'data-field': field.name },
          h('label', { for: id }, field.label, field.hint ? h('span', { class: 'sc-hint' }, ` (${field.hint})`) : null),
          input,
          error
        )
      );
    }
    this.general = h('div', { class: 'sc-message', role: 'status', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'jp-mod-styled jp-mod-accept' }, 'Submit for review');
    const draft = h('button', { type: 'button', class: 'jp-mod-styled' }, 'Save as draft');
    form.addEventListener('submit', event => {
      event.preventDefault();
      void this.send('submitted');
    });
    draft.addEventListener('click', () => void this.send('draft'));
    form.append(this.general, h('div', { class: 'sc-actions' }, submit, draft));
    this.node.append(form);
  }

  /** Fetch the schema the library publishes; the form validates with it from now on. */
  start(): Promise<void> {
    this.loading = this.loading ?? this.load();
    return this.loading;
  }

  private async load(): Promise<void> {
    try {
      this.validator = new ItemValidator(await this.options.api('library/api/schema'));
    } catch (error) {
      console.error('statcommons-workspace: the submission schema is not usable', error);
      this.say(`The form cannot be checked: ${error instanceof ServiceError ? error.message : String(error)}`, true);
    }
  }

  /** The item the form describes (without the notebook content). */
  item(): Record<string, unknown> {
    const item: Record<string, unknown> = {
      type: 'notebook',
      notebook: { attached: attachedName(this.options.fileName) }
    };
    for (const field of FIELDS) {
      const raw = this.inputs.get(field.name)!.value.trim();
      if (!raw) {
        continue;
      }
      if (field.kind === 'list') {
        item[field.name] = raw.split(',').map(v => v.trim()).filter(Boolean);
      } else if (field.kind === 'number') {
        item[field.name] = /^-?\d+$/.test(raw) ? Number(raw) : raw;
      } else {
        item[field.name] = raw;
      }
    }
    return item;
  }

  /** Show the problems of the form next to its fields; true when there are none. */
  check(all = true): boolean {
    const problems = this.validator ? this.validator.problems(this.item()) : [];
    this.showProblems(problems, all);
    return problems.length === 0;
  }

  private showProblems(problems: IProblem[], all: boolean): void {
    // The service writes languages[0] where ajv gives languages.0: the field is what comes first.
    const field = (p: IProblem) => p.path.split(/[.[]/)[0];
    for (const [name, node] of this.errors) {
      const mine = problems.filter(p => field(p) === name);
      const touched = all || this.inputs.get(name)!.value.trim() !== '';
      node.textContent = touched ? mine.map(p => p.message).join('; ') : '';
      this.inputs.get(name)!.setAttribute('aria-invalid', String(touched && mine.length > 0));
    }
    const other = problems.filter(p => !this.errors.has(field(p)));
    if (all && other.length) {
      this.say(other.map(p => `${p.path}: ${p.message}`).join('; '), true);
    }
  }

  private say(text: string, error = false): void {
    this.general.classList.toggle('sc-error', error);
    this.general.textContent = text;
  }

  async send(status: 'submitted' | 'draft'): Promise<void> {
    await this.start();
    if (!this.check(true)) {
      this.say('Fix the fields marked above, then submit again.', true);
      return;
    }
    this.say('Sending…');
    try {
      const item = await this.options.api(
        'library/api/items',
        jsonBody('POST', { ...this.item(), status, notebook_content: this.options.notebook() })
      );
      this.say(
        status === 'submitted'
          ? `Submitted: “${item.title}” (${item.id}) waits for a curator. See it under My submissions.`
          : `Saved as a draft: ${item.id}. See it under My submissions.`
      );
      this.options.submitted(item);
    } catch (error) {
      if (error instanceof ServiceError && error.problems.length) {
        this.showProblems(error.problems, true);
      }
      this.say(error instanceof ServiceError ? error.message : String(error), true);
    }
  }
}
