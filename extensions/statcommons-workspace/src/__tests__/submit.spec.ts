import { Widget } from '@lumino/widgets';
import schema from './fixtures/item-schema.json';
import { SubmitForm } from '../submit';

const NOTEBOOK = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] };

function makeForm(draft: Record<string, unknown>) {
  const posts: any[] = [];
  const api = jest.fn(async (endPoint: string, init?: RequestInit) => {
    if (endPoint === 'library/api/schema') {
      return schema;
    }
    posts.push(JSON.parse(String(init?.body)));
    return { id: 'raking-weights', title: 'Raking weights', status: 'submitted' };
  });
  const submitted = jest.fn();
  const form = new SubmitForm({ api, draft, fileName: 'work/raking.ipynb', notebook: () => NOTEBOOK, submitted });
  Widget.attach(form, document.body);
  return { form, posts, submitted };
}

function field(form: SubmitForm, name: string): HTMLInputElement {
  return form.node.querySelector<HTMLInputElement>(`[data-field="${name}"] input, [data-field="${name}"] textarea`)!;
}

describe('SubmitForm', () => {
  afterEach(() => document.body.replaceChildren());

  it('is filled in from the draft', () => {
    const { form } = makeForm({ title: 'Raking weights', summary: 'Calibrates.', keywords: ['python', 'survey'] });
    expect(field(form, 'title').value).toBe('Raking weights');
    expect(field(form, 'keywords').value).toBe('python, survey');
  });

  it('checks the form with the library schema before sending anything', async () => {
    const { form, posts } = makeForm({ title: 'Raking weights', summary: 'Calibrates.' });
    field(form, 'languages').value = 'english';
    field(form, 'year').value = '1500';
    await form.send('submitted');
    expect(posts).toEqual([]);
    const error = form.node.querySelector('[data-field="languages"] .sc-field-error')!;
    expect(error.textContent).toBe('expected an ISO 639-1 language code such as en or fr');
    expect(field(form, 'languages').getAttribute('aria-invalid')).toBe('true');
    expect(form.node.querySelector('[data-field="year"] .sc-field-error')!.textContent).not.toBe('');
  });

  it('sends a valid item with the notebook, for review', async () => {
    const { form, posts, submitted } = makeForm({ title: 'Raking weights', summary: 'Calibrates.' });
    field(form, 'languages').value = 'en, fr';
    await form.send('submitted');
    expect(posts).toEqual([
      {
        type: 'notebook',
        notebook: { attached: 'raking.ipynb' },
        title: 'Raking weights',
        summary: 'Calibrates.',
        languages: ['en', 'fr'],
        status: 'submitted',
        notebook_content: NOTEBOOK
      }
    ]);
    expect(submitted).toHaveBeenCalled();
    expect(form.node.querySelector('.sc-message')!.textContent).toContain('waits for a curator');
  });

  it('shows the problems the service finds next to the fields', async () => {
    const { form } = makeForm({ title: 'Raking weights', summary: 'Calibrates.' });
    const { ServiceError } = await import('../request');
    (form as any).options.api = jest.fn(async (endPoint: string) => {
      if (endPoint === 'library/api/schema') {
        return schema;
      }
      throw new ServiceError(422, 'the item has 1 problem(s)', 'library', [
        { path: 'topics[0]', message: "'x' is not a topic" }
      ]);
    });
    field(form, 'topics').value = 'x';
    await form.send('submitted');
    expect(form.node.querySelector('[data-field="topics"] .sc-field-error')!.textContent).toBe("'x' is not a topic");
    expect(form.node.querySelector('.sc-message')!.textContent).toBe('The library service answered 422: the item has 1 problem(s)');
  });
});
