import schema from './fixtures/item-schema.json';
import { attachedName } from '../submit';
import { ItemValidator } from '../validate';

// The fixture is the service's schema; tests/extension/test_server_extension.py checks it still is.
const validator = new ItemValidator(schema as any);
const good = { type: 'notebook', title: 'Raking', summary: 'Calibrates weights.', notebook: { attached: 'raking.ipynb' } };

describe('ItemValidator with the library schema', () => {
  it('accepts a new notebook item without an id (the service makes it)', () => {
    expect(validator.problems(good)).toEqual([]);
  });

  it('names the field and says what is expected', () => {
    const problems = validator.problems({ ...good, languages: ['english'], year: 1500 });
    expect(problems).toContainEqual({ path: 'languages.0', message: 'expected an ISO 639-1 language code such as en or fr' });
    expect(problems.map(p => p.path)).toContain('year');
  });

  it('reports a missing title and an unknown field', () => {
    const { title, ...untitled } = good;
    expect(title).toBe('Raking');
    const problems = validator.problems({ ...untitled, colour: 'red' });
    expect(problems).toContainEqual({ path: 'title', message: 'missing: required' });
    expect(problems).toContainEqual({ path: 'colour', message: 'unknown field' });
  });

  it('makes a file name the schema accepts for the attached notebook', () => {
    expect(attachedName('work/my notebook.ipynb')).toBe('my notebook.ipynb');
    expect(validator.problems({ ...good, notebook: { attached: attachedName('x/y') } })).toEqual([]);
  });
});
