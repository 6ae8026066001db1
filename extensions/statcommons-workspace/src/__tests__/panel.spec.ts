import { Widget } from '@lumino/widgets';
import { LibraryPanel } from '../panel';
import { ServiceError } from '../request';

const ITEMS = [
  { id: 'tutorial-a', type: 'notebook', title: 'Tutorial A', organisations: ['StatCommons'], year: 2026, gsbpm: ['5.1'], rating: { average: 4, count: 2 }, last_run: { status: 'failed', finished: '2026-01-01T00:00:00Z' } },
  { id: 'paper-b', type: 'publication', title: 'Paper B', year: 1969, gsbpm: ['5.1'], rating: { average: null, count: 0 } }
];

function fakeApi(answer: (endPoint: string) => any) {
  const calls: string[] = [];
  const api = jest.fn(async (endPoint: string) => {
    calls.push(endPoint);
    const result = answer(endPoint);
    if (result instanceof Error) {
      throw result;
    }
    return result;
  });
  return { api, calls };
}

function library(endPoint: string) {
  if (endPoint === 'library/api/user') {
    return { name: 'ana', can_submit: true, curator: false, admin: false };
  }
  if (endPoint === 'library/api/vocabularies') {
    return { gsbpm: { '5.1': 'Integrate data' } };
  }
  return { items: ITEMS, total: 2, facets: { type: { notebook: 1, publication: 1 }, gsbpm: { '5.1': 2 } }, limit: 20, offset: 0 };
}

async function flush() {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}

describe('LibraryPanel', () => {
  let opened: string[];

  function makePanel(answer: (endPoint: string) => any) {
    const { api, calls } = fakeApi(answer);
    opened = [];
    const panel = new LibraryPanel({ api, openItem: id => opened.push(id), settings: { debounceMs: 200, pageSize: 20 } });
    Widget.attach(panel, document.body);
    return { panel, calls };
  }

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.useRealTimers();
    document.body.replaceChildren();
  });

  it('searches once as the user stops typing, and shows the results', async () => {
    const { panel, calls } = makePanel(library);
    await panel.start();
    const before = calls.filter(c => c.startsWith('library/api/items')).length;
    for (const text of ['r', 're', 'rec']) {
      panel.searchBox.value = text;
      panel.searchBox.dispatchEvent(new Event('input'));
      jest.advanceTimersByTime(50);
    }
    expect(calls.filter(c => c.startsWith('library/api/items')).length).toBe(before);
    jest.advanceTimersByTime(200);
    await flush();
    const searches = calls.filter(c => c.startsWith('library/api/items'));
    expect(searches.length).toBe(before + 1);
    expect(searches[searches.length - 1]).toBe('library/api/items?q=rec&limit=20&offset=0');
    const rows = panel.results.querySelectorAll('.sc-result');
    expect(rows.length).toBe(2);
    expect(rows[0].textContent).toContain('Tutorial A');
    expect(rows[0].textContent).toContain('StatCommons · 2026 · GSBPM 5.1');
    expect(rows[0].textContent).toContain('4.0 ★ (2)');
    expect(rows[0].textContent).toContain('failed on 2026-01-01 00:00 UTC');
    expect(rows[0].querySelector('[aria-label="notebook"]')).not.toBeNull();
    expect(panel.node.dataset.renderedQuery).toBe('rec');
  });

  it('filters by a facet value and shows the counts', async () => {
    const { panel, calls } = makePanel(library);
    await panel.start();
    const box = panel.facetsNode.querySelector<HTMLInputElement>('[data-facet="type"] input[data-value="notebook"]')!;
    expect(box.closest('label')!.textContent).toContain('1');
    expect(panel.facetsNode.textContent).toContain('5.1 Integrate data');
    box.click();
    await flush();
    expect(calls[calls.length - 1]).toBe('library/api/items?type=notebook&limit=20&offset=0');
    expect(panel.activeFilters).toEqual({ type: ['notebook'] });
    panel.facetsNode.querySelector<HTMLInputElement>('[data-facet="type"] input[data-value="notebook"]')!.click();
    await flush();
    expect(panel.activeFilters).toEqual({});
  });

  it('says what happened when the library does not answer', async () => {
    const { panel } = makePanel(endPoint =>
      endPoint.startsWith('library/api/items')
        ? new ServiceError(502, 'The library service did not answer: connection refused', 'library')
        : library(endPoint)
    );
    await panel.start();
    expect(panel.status.textContent).toBe(
      'The library service did not answer (502): The library service did not answer: connection refused'
    );
    expect(panel.status.classList.contains('sc-error')).toBe(true);
    expect(panel.node.dataset.state).toBe('error');
  });

  it('says when nothing matches', async () => {
    const { panel } = makePanel(endPoint =>
      endPoint.startsWith('library/api/items') ? { items: [], total: 0, facets: {}, limit: 20, offset: 0 } : library(endPoint)
    );
    panel.searchBox.value = 'zzz';
    await panel.start();
    expect(panel.status.textContent).toBe('No items for “zzz”. Try other words or fewer filters.');
    expect(panel.node.dataset.state).toBe('empty');
  });

  it('moves through the results with the arrow keys and opens one with Enter', async () => {
    const { panel } = makePanel(library);
    await panel.start();
    panel.searchBox.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    const rows = panel.results.querySelectorAll<HTMLElement>('.sc-result');
    expect(document.activeElement).toBe(rows[0]);
    panel.results.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    expect(document.activeElement).toBe(rows[1]);
    panel.results.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    expect(opened).toEqual(['paper-b']);
    panel.results.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', bubbles: true }));
    panel.results.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowUp', bubbles: true }));
    expect(document.activeElement).toBe(panel.searchBox);
  });

  it('shows the review queue to curators only', async () => {
    const { panel } = makePanel(library);
    await panel.start();
    expect(panel.node.querySelector<HTMLElement>('[role="tab"]:nth-child(3)')!.hidden).toBe(true);
    const curator = makePanel(e => (e === 'library/api/user' ? { name: 'cora', curator: true, can_submit: true } : library(e)));
    await curator.panel.start();
    expect(curator.panel.node.querySelector<HTMLElement>('[role="tab"]:nth-child(3)')!.hidden).toBe(false);
  });
});

describe('LibraryPanel review queue', () => {
  afterEach(() => document.body.replaceChildren());

  it('reviews the revision in the queue, and reloads an item that changed since', async () => {
    let revision = 1;
    const submitted = () => ({ ...ITEMS[1], status: 'submitted', revision });
    const api = jest.fn(async (endPoint: string) => {
      if (endPoint === 'library/api/user') {
        return { name: 'cora', can_submit: true, curator: true, admin: false };
      }
      if (endPoint.includes('status=submitted')) {
        return { items: [submitted()], total: 1, facets: {}, limit: 100, offset: 0 };
      }
      return library(endPoint);
    });
    const seen: { id: string; revision?: number; decision: string }[] = [];
    const review = jest.fn(async (item: any, decision: 'publish' | 'reject') => {
      seen.push({ id: item.id, revision: item.revision, decision });
      // The submitter changed it after the queue was loaded.
      revision = 2;
      return { outcome: 'changed' as const, message: "Not published: 'paper-b' changed since revision 1 (it is at revision 2 now): read it again" };
    });
    const panel = new LibraryPanel({ api, openItem: () => undefined, review });
    Widget.attach(panel, document.body);
    await panel.start();
    await panel.showView('review');
    const loads = () => api.mock.calls.filter(([e]) => e.includes('status=submitted')).length;
    expect(loads()).toBe(1);

    panel.node.querySelector<HTMLButtonElement>('.sc-result[data-id="paper-b"] .jp-mod-accept')!.click();
    await flush();
    await flush();
    expect(seen).toEqual([{ id: 'paper-b', revision: 1, decision: 'publish' }]);
    expect(loads()).toBe(2);
    const status = panel.node.querySelector('[role="tabpanel"]:not([hidden]) .sc-status')!;
    expect(status.textContent).toContain("changed since revision 1 (it is at revision 2 now): read it again");
    expect(status.classList.contains('sc-error')).toBe(true);
    expect(panel.node.querySelector('.sc-result[data-id="paper-b"] .sc-changed')!.textContent).toContain('read it again');

    // The reloaded queue carries the new revision: the next decision names it.
    panel.node.querySelector<HTMLButtonElement>('.sc-result[data-id="paper-b"] .jp-mod-accept')!.click();
    await flush();
    expect(seen[1].revision).toBe(2);
  });

  it('does nothing more when the curator cancels', async () => {
    const api = jest.fn(async (endPoint: string) =>
      endPoint.includes('status=submitted')
        ? { items: [{ ...ITEMS[1], status: 'submitted', revision: 1 }], total: 1, facets: {}, limit: 100, offset: 0 }
        : endPoint === 'library/api/user'
          ? { name: 'cora', curator: true }
          : library(endPoint)
    );
    const review = jest.fn(async () => ({ outcome: 'cancelled' as const, message: '' }));
    const panel = new LibraryPanel({ api, openItem: () => undefined, review });
    Widget.attach(panel, document.body);
    await panel.start();
    await panel.showView('review');
    panel.node.querySelector<HTMLButtonElement>('.sc-result[data-id="paper-b"] .jp-mod-warn')!.click();
    await flush();
    expect(review).toHaveBeenCalledTimes(1);
    expect(api.mock.calls.filter(([e]) => e.includes('status=submitted')).length).toBe(1);
  });
});

describe('LibraryPanel lists', () => {
  it('shows my submissions even when a search finishes after the list was asked for', async () => {
    let release: () => void = () => undefined;
    const slow = new Promise<void>(resolve => (release = resolve));
    const api = jest.fn(async (endPoint: string) => {
      if (endPoint.includes('mine=true')) {
        return { items: [{ ...ITEMS[0], status: 'rejected' }], total: 1, facets: {}, limit: 100, offset: 0 };
      }
      if (endPoint === 'library/api/items/tutorial-a') {
        return { ...ITEMS[0], status: 'rejected', status_reason: 'Needs a licence' };
      }
      if (endPoint.startsWith('library/api/items')) {
        await slow;
      }
      return library(endPoint);
    });
    const panel = new LibraryPanel({ api, openItem: () => undefined });
    Widget.attach(panel, document.body);
    const started = panel.start();
    await panel.showView('mine');
    release();
    await started;
    await flush();
    const row = panel.node.querySelector('[role="tabpanel"]:not([hidden]) .sc-result')!;
    expect(row.textContent).toContain('rejected');
    expect(row.textContent).toContain('Reason: Needs a licence');
    document.body.replaceChildren();
  });
});
