/**
 * The Library side panel: search as you type, facet filters with counts, results with
 * keyboard navigation and paging, the user's submissions and, for curators, the review queue.
 */
import { Widget } from '@lumino/widgets';
import { h, icon } from './dom';
import { typeIcon } from './icons';
import {
  debounce,
  FACET_LABELS,
  IItem,
  IQuery,
  ISearchResult,
  IUser,
  ratingText,
  runText,
  searchParams,
  toggleFacet
} from './model';
import { ServiceError } from './request';
import type { Review } from './review';

/** How the panel calls its server: `requestAPI` in the app, a fake in tests. */
export type Api = (endPoint: string, init?: RequestInit) => Promise<any>;

export interface IPanelSettings {
  facets: string[];
  pageSize: number;
  debounceMs: number;
}

export const DEFAULT_SETTINGS: IPanelSettings = {
  facets: ['type', 'gsbpm', 'topic', 'organisation', 'language'],
  pageSize: 20,
  debounceMs: 250
};

export interface ILibraryPanelOptions {
  api: Api;
  openItem: (id: string) => void;
  settings?: Partial<IPanelSettings>;
  /** A curator's decision on a submitted item, done by the caller (it asks for a reason). */
  review?: Review;
}

type View = 'search' | 'mine' | 'review';

export class LibraryPanel extends Widget {
  readonly searchBox: HTMLInputElement;
  readonly results: HTMLUListElement;
  readonly status: HTMLElement;
  readonly facetsNode: HTMLElement;
  readonly moreButton: HTMLButtonElement;
  private readonly api: Api;
  private readonly openItem: (id: string) => void;
  private readonly reviewFn?: ILibraryPanelOptions['review'];
  private settings: IPanelSettings;
  private filters: Record<string, string[]> = {};
  private offset = 0;
  private total = 0;
  private generation = 0;
  private listGeneration = 0; // the lists have their own: a search finishing must not drop them
  private labels: Record<string, Record<string, string>> = {};
  private view: View = 'search';
  private readonly tabs: Record<View, HTMLButtonElement>;
  private readonly listNode: HTMLUListElement;
  private readonly listStatus: HTMLElement;
  private readonly searchView: HTMLElement;
  private readonly listView: HTMLElement;
  private scheduleSearch: ReturnType<typeof debounce<[]>>;

  constructor(options: ILibraryPanelOptions) {
    super();
    this.id = 'statcommons-library';
    this.addClass('sc-LibraryPanel');
    this.title.caption = 'StatCommons library';
    this.api = options.api;
    this.openItem = options.openItem;
    this.reviewFn = options.review;
    this.settings = { ...DEFAULT_SETTINGS, ...options.settings };

    this.tabs = {
      search: h('button', { role: 'tab', class: 'sc-tab', 'aria-selected': 'true' }, 'Search'),
      mine: h('button', { role: 'tab', class: 'sc-tab', 'aria-selected': 'false' }, 'My submissions'),
      review: h('button', { role: 'tab', class: 'sc-tab', 'aria-selected': 'false', hidden: true }, 'Review queue')
    };
    for (const [view, tab] of Object.entries(this.tabs)) {
      tab.addEventListener('click', () => void this.showView(view as View));
    }

    this.searchBox = h('input', {
      type: 'search',
      class: 'sc-search jp-mod-styled',
      placeholder: 'Search the library',
      'aria-label': 'Search the library'
    });
    this.facetsNode = h('div', { class: 'sc-facets', 'aria-label': 'Filters' });
    this.status = h('div', { class: 'sc-status', role: 'status', 'aria-live': 'polite' });
    this.results = h('ul', { class: 'sc-results', role: 'listbox', 'aria-label': 'Results' });
    this.moreButton = h('button', { class: 'jp-mod-styled sc-more', hidden: true }, 'Show more');
    this.searchView = h(
      'div',
      { class: 'sc-view', role: 'tabpanel' },
      this.searchBox,
      this.facetsNode,
      this.status,
      this.results,
      this.moreButton
    );
    this.listStatus = h('div', { class: 'sc-status', role: 'status', 'aria-live': 'polite' });
    this.listNode = h('ul', { class: 'sc-results', role: 'listbox', 'aria-label': 'Items' });
    this.listView = h('div', { class: 'sc-view', role: 'tabpanel', hidden: true }, this.listStatus, this.listNode);
    this.node.append(
      h('div', { class: 'sc-tabs', role: 'tablist' }, this.tabs.search, this.tabs.mine, this.tabs.review),
      this.searchView,
      this.listView
    );

    this.scheduleSearch = debounce(() => void this.search(), this.settings.debounceMs);
    this.searchBox.addEventListener('input', () => this.scheduleSearch());
    this.searchBox.addEventListener('keydown', event => {
      if (event.key === 'ArrowDown') {
        event.preventDefault();
        this.focusResult(this.results, 0);
      } else if (event.key === 'Enter') {
        this.scheduleSearch.cancel();
        void this.search();
      }
    });
    this.moreButton.addEventListener('click', () => void this.search(true));
    for (const list of [this.results, this.listNode]) {
      list.addEventListener('keydown', event => this.onListKey(list, event));
    }
  }

  /** Apply new settings (from the settings registry). */
  configure(settings: Partial<IPanelSettings>): void {
    this.settings = { ...this.settings, ...settings };
    this.scheduleSearch.cancel();
    this.scheduleSearch = debounce(() => void this.search(), this.settings.debounceMs);
  }

  private started = false;

  protected onAfterShow(): void {
    void this.start();
  }

  /** First load (once): who the user is (curators get the review queue), labels, the first page. */
  async start(): Promise<void> {
    if (this.started) {
      return;
    }
    this.started = true;
    try {
      const [user, vocabularies] = await Promise.all([
        this.api('library/api/user') as Promise<IUser>,
        this.api('library/api/vocabularies').catch(() => ({}))
      ]);
      this.tabs.review.hidden = !user.curator;
      this.labels = {
        gsbpm: vocabularies.gsbpm ?? {},
        topic: vocabularies.topic && !Array.isArray(vocabularies.topic) ? vocabularies.topic : {}
      };
    } catch (error) {
      this.showError(this.status, error);
      return;
    }
    await this.search();
  }

  get activeFilters(): Record<string, string[]> {
    return this.filters;
  }

  /** Switch a facet value on or off and search again. */
  toggle(facet: string, value: string): void {
    this.filters = toggleFacet(this.filters, facet, value);
    this.scheduleSearch.cancel();
    void this.search();
  }

  /** Search with the current words and filters; `more` appends the next page. */
  async search(more = false): Promise<void> {
    const generation = ++this.generation;
    const q = this.searchBox.value;
    const query: IQuery = {
      q,
      filters: this.filters,
      limit: this.settings.pageSize,
      offset: more ? this.offset : 0
    };
    this.node.dataset.state = 'loading';
    this.setStatus(this.status, more ? 'Loading more…' : 'Searching…');
    let result: ISearchResult;
    try {
      result = await this.api(`library/api/items?${searchParams(query)}`);
    } catch (error) {
      if (generation === this.generation) {
        this.showError(this.status, error);
        this.node.dataset.state = 'error';
      }
      return;
    }
    if (generation !== this.generation) {
      return; // a newer search is on its way
    }
    if (!more) {
      this.results.replaceChildren();
    }
    this.offset = query.offset + result.items.length;
    this.total = result.total;
    for (const item of result.items) {
      this.results.append(this.resultRow(item));
    }
    this.renderFacets(result.facets ?? {});
    this.moreButton.hidden = this.offset >= this.total;
    if (!this.total) {
      const words = q.trim() ? ` for “${q.trim()}”` : '';
      const filters = Object.keys(this.filters).length ? ' with these filters' : '';
      this.setStatus(this.status, `No items${words}${filters}. Try other words or fewer filters.`);
      this.node.dataset.state = 'empty';
    } else {
      this.setStatus(this.status, `${this.total} item${this.total === 1 ? '' : 's'}, showing ${this.offset}`);
      this.node.dataset.state = 'results';
    }
    this.node.dataset.renderedQuery = q;
  }

  private resultRow(item: IItem, actions?: HTMLElement): HTMLLIElement {
    const meta = [
      (item.organisations ?? []).join(', '),
      item.year ? String(item.year) : '',
      (item.gsbpm ?? []).length ? `GSBPM ${item.gsbpm!.join(', ')}` : ''
    ].filter(Boolean);
    const run = item.last_run;
    const li = h(
      'li',
      { class: 'sc-result', role: 'option', tabindex: '-1', 'data-id': item.id, 'data-type': item.type },
      icon(typeIcon(item.type), item.type),
      h(
        'div',
        { class: 'sc-result-body' },
        h('div', { class: 'sc-result-title' }, item.title),
        h('div', { class: 'sc-result-meta' }, meta.join(' · ')),
        h(
          'div',
          { class: 'sc-result-meta' },
          h('span', { class: 'sc-rating' }, ratingText(item.rating)),
          item.type === 'notebook'
            ? h(
                'span',
                { class: `sc-run sc-run-${run?.status ?? 'none'}` },
                runText(run, true)
              )
            : null,
          item.status && item.status !== 'published'
            ? h('span', { class: `sc-badge sc-status-${item.status}` }, item.status)
            : null
        ),
        item.status === 'rejected' && item.status_reason
          ? h('div', { class: 'sc-reason' }, `Reason: ${item.status_reason}`)
          : null,
        actions ?? null
      )
    );
    li.addEventListener('click', event => {
      if ((event.target as HTMLElement).closest('button')) {
        return;
      }
      this.openItem(item.id);
    });
    return li;
  }

  private renderFacets(facets: Record<string, Record<string, number>>): void {
    this.facetsNode.replaceChildren();
    for (const facet of this.settings.facets) {
      const counts = { ...(facets[facet] ?? {}) };
      for (const chosen of this.filters[facet] ?? []) {
        counts[chosen] = counts[chosen] ?? 0;
      }
      const values = Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      if (!values.length) {
        continue;
      }
      const group = h('fieldset', { class: 'sc-facet', 'data-facet': facet }, h('legend', {}, FACET_LABELS[facet] ?? facet));
      for (const [value, count] of values.slice(0, 12)) {
        const box = h('input', { type: 'checkbox', 'data-value': value });
        box.checked = (this.filters[facet] ?? []).includes(value);
        box.addEventListener('change', () => this.toggle(facet, value));
        const label = this.labels[facet]?.[value];
        group.append(
          h('label', { class: 'sc-facet-value' }, box, label ? `${value} ${label}` : value, h('span', { class: 'sc-count' }, `${count}`))
        );
      }
      this.facetsNode.append(group);
    }
  }

  private focusResult(list: HTMLElement, index: number): void {
    const rows = Array.from(list.querySelectorAll<HTMLElement>('.sc-result'));
    if (!rows.length) {
      return;
    }
    const row = rows[Math.max(0, Math.min(index, rows.length - 1))];
    for (const other of rows) {
      other.setAttribute('aria-selected', String(other === row));
    }
    row.focus();
  }

  private onListKey(list: HTMLElement, event: KeyboardEvent): void {
    const rows = Array.from(list.querySelectorAll<HTMLElement>('.sc-result'));
    const current = rows.indexOf(document.activeElement as HTMLElement);
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      this.focusResult(list, current + 1);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      if (current <= 0 && list === this.results) {
        this.searchBox.focus();
      } else {
        this.focusResult(list, current - 1);
      }
    } else if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      this.focusResult(list, event.key === 'Home' ? 0 : rows.length - 1);
    } else if (event.key === 'Enter' && current >= 0) {
      event.preventDefault();
      this.openItem(rows[current].dataset.id!);
    }
  }

  /** Show a tab: search, the user's submissions or the review queue. */
  async showView(view: View): Promise<void> {
    this.view = view;
    for (const [name, tab] of Object.entries(this.tabs)) {
      tab.setAttribute('aria-selected', String(name === view));
    }
    this.searchView.hidden = view !== 'search';
    this.listView.hidden = view === 'search';
    if (view !== 'search') {
      await this.loadList(view);
    }
  }

  /** Reload what is shown (after a submission or a review). */
  async refresh(): Promise<void> {
    if (this.view === 'search') {
      await this.search();
    } else {
      await this.loadList(this.view);
    }
  }

  private async loadList(view: 'mine' | 'review'): Promise<void> {
    const generation = ++this.listGeneration;
    this.listNode.replaceChildren();
    this.setStatus(this.listStatus, 'Loading…');
    const query: IQuery =
      view === 'mine'
        ? { q: '', filters: {}, limit: 100, offset: 0, mine: true, status: ['draft', 'submitted', 'published', 'rejected', 'retired'] }
        : { q: '', filters: {}, limit: 100, offset: 0, status: ['submitted'] };
    let result: ISearchResult;
    try {
      result = await this.api(`library/api/items?${searchParams({ ...query })}&facets=false`);
    } catch (error) {
      if (generation === this.listGeneration) {
        this.showError(this.listStatus, error);
      }
      return;
    }
    if (generation !== this.listGeneration) {
      return;
    }
    this.listNode.replaceChildren();
    for (const item of result.items) {
      this.listNode.append(this.resultRow(item, view === 'review' ? this.reviewButtons(item) : undefined));
    }
    // Search results carry no curator's reason: a rejected item's own record does, for its submitter.
    for (const item of result.items.filter(i => i.status === 'rejected' && !i.status_reason)) {
      void this.api(`library/api/items/${encodeURIComponent(item.id)}`)
        .then((full: IItem) => {
          const row = this.listNode.querySelector(`.sc-result[data-id="${CSS.escape(item.id)}"] .sc-result-body`);
          if (full.status_reason && row && !row.querySelector('.sc-reason')) {
            row.append(h('div', { class: 'sc-reason' }, `Reason: ${full.status_reason}`));
          }
        })
        .catch(() => undefined);
    }
    this.setStatus(
      this.listStatus,
      result.total
        ? `${result.total} item${result.total === 1 ? '' : 's'}`
        : view === 'mine'
          ? 'You have not submitted anything yet: use “Submit to library” on a notebook.'
          : 'Nothing is waiting for review.'
    );
    this.node.dataset.state = view;
  }

  private reviewButtons(item: IItem): HTMLElement {
    const publish = h('button', { class: 'jp-mod-styled jp-mod-accept' }, 'Publish');
    const reject = h('button', { class: 'jp-mod-styled jp-mod-warn' }, 'Reject');
    for (const [button, decision] of [
      [publish, 'publish'],
      [reject, 'reject']
    ] as const) {
      button.addEventListener('click', async () => {
        if (!this.reviewFn) {
          return;
        }
        const { outcome, message } = await this.reviewFn(item, decision);
        if (outcome === 'reviewed' || outcome === 'changed') {
          await this.loadList('review');
        }
        if (outcome === 'changed') {
          // The queue now shows the item as it is: say why nothing was done, and which item.
          this.listStatus.classList.add('sc-error');
          this.listStatus.textContent = message;
          const row = this.listNode.querySelector(`.sc-result[data-id="${CSS.escape(item.id)}"] .sc-result-body`);
          row?.append(h('div', { class: 'sc-reason sc-changed' }, 'Changed since you saw it: open it and read it again.'));
        }
      });
    }
    return h('div', { class: 'sc-actions' }, publish, reject);
  }

  private setStatus(node: HTMLElement, text: string): void {
    node.classList.remove('sc-error');
    node.textContent = text;
  }

  private showError(node: HTMLElement, error: unknown): void {
    node.classList.add('sc-error');
    node.textContent = error instanceof ServiceError ? error.message : `Something went wrong: ${String(error)}`;
  }
}
