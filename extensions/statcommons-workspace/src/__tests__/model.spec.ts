import { debounce, draftFromNotebook, loadCode, searchParams, toggleFacet } from '../model';

describe('debounce', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('calls once, after the last call has been quiet for the wait', () => {
    const fn = jest.fn();
    const debounced = debounce(fn, 200);
    debounced('r');
    jest.advanceTimersByTime(150);
    debounced('re');
    jest.advanceTimersByTime(150);
    debounced('rec');
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(200);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith('rec');
  });

  it('drops a pending call when cancelled', () => {
    const fn = jest.fn();
    const debounced = debounce(fn, 100);
    debounced();
    debounced.cancel();
    jest.advanceTimersByTime(500);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('facets and search parameters', () => {
  it('toggles a value on and off, dropping empty facets', () => {
    let filters = toggleFacet({}, 'type', 'notebook');
    expect(filters).toEqual({ type: ['notebook'] });
    filters = toggleFacet(filters, 'type', 'dataset');
    expect(filters).toEqual({ type: ['notebook', 'dataset'] });
    filters = toggleFacet(filters, 'type', 'notebook');
    filters = toggleFacet(filters, 'type', 'dataset');
    expect(filters).toEqual({});
  });

  it('builds the query string of the library API', () => {
    const query = searchParams({ q: ' record linkage ', filters: { type: ['notebook'], gsbpm: ['5.1'] }, limit: 20, offset: 40 });
    expect(query).toBe('q=record+linkage&gsbpm=5.1&type=notebook&limit=20&offset=40');
    expect(searchParams({ q: '', filters: {}, limit: 5, offset: 0, mine: true, status: ['draft'] })).toBe(
      'status=draft&mine=true&limit=5&offset=0'
    );
  });
});

describe('draftFromNotebook', () => {
  it('takes the title from the first heading and the summary from the paragraph after it', () => {
    const draft = draftFromNotebook(
      {
        metadata: { kernelspec: { language: 'python' }, authors: [{ name: 'Ana' }] },
        cells: [
          { cell_type: 'code', source: 'x = 1' },
          { cell_type: 'markdown', source: ['# Raking *weights*\n', '\n', 'Calibrates a survey.\nTo margins.\n\nMore.'] }
        ]
      },
      'work/raking.ipynb'
    );
    expect(draft.title).toBe('Raking weights');
    expect(draft.summary).toBe('Calibrates a survey.\nTo margins.');
    expect(draft.authors).toEqual(['Ana']);
    expect(draft.type).toBe('notebook');
  });

  it('falls back on the file name', () => {
    expect(draftFromNotebook({ cells: [] }, 'a/my_analysis-2.ipynb').title).toBe('my analysis 2');
  });
});

it('loads a dataset from its folder under ~/datasets', () => {
  const code = loadCode({ id: 'x', type: 'dataset', title: 'X', dataset: { datapackage: 'datasets/synthetic-persons/datapackage.json' } });
  expect(code).toContain('Path.home() / "datasets" / "synthetic-persons"');
  expect(code).toContain('Package(');
  expect(code).toContain('pd.read_csv');
});
