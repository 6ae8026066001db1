/**
 * The library's data as the extension sees it, and small pure helpers: search
 * parameters, facet toggling, debounce, notebook metadata for the submit form.
 */

export type ItemType = 'publication' | 'experience' | 'dataset' | 'video' | 'algorithm' | 'notebook';

export const FACETS = ['type', 'gsbpm', 'topic', 'organisation', 'language'] as const;
export type Facet = (typeof FACETS)[number];

export const FACET_LABELS: Record<string, string> = {
  type: 'Type',
  gsbpm: 'GSBPM phase',
  topic: 'Topic',
  organisation: 'Organisation',
  language: 'Language',
  licence: 'Licence'
};

export interface ILastRun {
  status: string;
  finished?: string;
  started?: string;
  run?: number;
  error?: string;
  /** The cell that failed, 0 for the first. */
  cell?: number;
  /** The package the error says the image lacks. */
  missing_package?: string;
  [key: string]: unknown;
}

export interface IItem {
  id: string;
  type: ItemType;
  title: string;
  summary?: string;
  status?: string;
  status_reason?: string;
  submitter?: string;
  organisations?: string[];
  authors?: string[];
  year?: number;
  gsbpm?: string[];
  topics?: string[];
  languages?: string[];
  keywords?: string[];
  licence?: string;
  links?: { url: string; title?: string; doi?: string }[];
  rating?: { average: number | null; count: number };
  last_run?: ILastRun | null;
  notebook?: { repository?: string; branch?: string; path?: string; shared_path?: string; attached?: string };
  dataset?: { datapackage?: string; url?: string; formats?: string[]; size_bytes?: number };
  video?: { url?: string; file?: string; duration?: string };
  algorithm?: { repository?: string; language?: string; install?: string; entry_point?: string };
  video_file_url?: string;
  updated?: string;
  /** 1 when submitted, one more at each change: a review names the revision the curator read. */
  revision?: number;
  [key: string]: unknown;
}

export interface ISearchResult {
  items: IItem[];
  total: number;
  facets: Record<string, Record<string, number>>;
  limit: number;
  offset: number;
}

export interface IUser {
  name: string;
  can_submit: boolean;
  curator: boolean;
  admin: boolean;
}

export interface IComment {
  id: number;
  author: string;
  text: string;
  created: string;
  hidden?: boolean;
}

/** What the panel searches for: words, the facet values chosen, a page. */
export interface IQuery {
  q: string;
  filters: Record<string, string[]>;
  limit: number;
  offset: number;
  status?: string[];
  mine?: boolean;
}

/** The query string of `GET /api/items` for a query. */
export function searchParams(query: IQuery): string {
  const params = new URLSearchParams();
  if (query.q.trim()) {
    params.append('q', query.q.trim());
  }
  for (const facet of Object.keys(query.filters).sort()) {
    for (const value of query.filters[facet]) {
      params.append(facet, value);
    }
  }
  for (const status of query.status ?? []) {
    params.append('status', status);
  }
  if (query.mine) {
    params.append('mine', 'true');
  }
  params.append('limit', String(query.limit));
  params.append('offset', String(query.offset));
  return params.toString();
}

/** The filters with `value` of `facet` switched on or off (a new object; empty facets are dropped). */
export function toggleFacet(
  filters: Record<string, string[]>,
  facet: string,
  value: string
): Record<string, string[]> {
  const current = filters[facet] ?? [];
  const next = current.includes(value) ? current.filter(v => v !== value) : [...current, value];
  const result: Record<string, string[]> = { ...filters };
  if (next.length) {
    result[facet] = next;
  } else {
    delete result[facet];
  }
  return result;
}

/** A function that calls `fn` once, `wait` ms after the last call; `cancel()` drops a pending call. */
export function debounce<A extends unknown[]>(
  fn: (...args: A) => void,
  wait: number
): ((...args: A) => void) & { cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const debounced = (...args: A) => {
    if (timer !== null) {
      clearTimeout(timer);
    }
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, wait);
  };
  debounced.cancel = () => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
  };
  return debounced;
}

/** "4.2 ★ (12)" style text of a rating. */
export function ratingText(rating?: { average: number | null; count: number }): string {
  if (!rating || !rating.count || rating.average === null) {
    return 'not rated';
  }
  return `${rating.average.toFixed(1)} ★ (${rating.count})`;
}

const RUN_ENDINGS: Record<string, string> = {
  failed: 'failed',
  timeout: 'stopped at its time limit',
  interrupted: 'was interrupted',
  cancelled: 'was cancelled'
};

/** An ISO time as "2026-12-06 07:30 UTC" (a date alone as given). */
export function whenText(iso?: string): string {
  if (!iso || iso.length <= 10) {
    return iso ?? '';
  }
  const moment = new Date(iso);
  if (isNaN(moment.getTime())) {
    return iso;
  }
  return `${moment.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * A notebook's latest run in words, as the library's page says it: "ran successfully on <date>",
 * or how it failed, in which cell (counted from 1) and, for a missing package, which one.
 * ``brief`` leaves out the error itself (for a result row).
 */
export function runText(run: ILastRun | null | undefined, brief = false): string {
  if (!run) {
    return 'never run';
  }
  const moment = whenText(run.finished);
  if (run.status === 'succeeded') {
    return `ran successfully on ${moment}`;
  }
  let text = `${RUN_ENDINGS[run.status] ?? run.status} on ${moment}`;
  if (typeof run.cell === 'number') {
    text += ` in cell ${run.cell + 1}`;
  }
  if (run.missing_package) {
    return `${text}: it needs the package ${run.missing_package}, which its image lacks`;
  }
  return run.error && !brief ? `${text}: ${run.error}` : text;
}

/** Seconds between two ISO times, as "1 min 5 s"; '' when unknown. */
export function duration(started?: string | null, finished?: string | null): string {
  if (!started || !finished) {
    return '';
  }
  const seconds = Math.round((Date.parse(finished) - Date.parse(started)) / 1000);
  if (!isFinite(seconds) || seconds < 0) {
    return '';
  }
  return seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
}

interface INotebookLike {
  cells?: { cell_type: string; source: string | string[] }[];
  metadata?: Record<string, any>;
}

/** A first draft of a library item from a notebook: title from metadata or the first heading, and so on. */
export function draftFromNotebook(notebook: INotebookLike, path: string): Record<string, unknown> {
  const metadata = notebook.metadata ?? {};
  const markdown = (notebook.cells ?? [])
    .filter(c => c.cell_type === 'markdown')
    .map(c => (Array.isArray(c.source) ? c.source.join('') : c.source));
  let title = typeof metadata.title === 'string' ? metadata.title : '';
  let summary = '';
  for (const text of markdown) {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const heading = /^#{1,6}\s+(.*\S)\s*$/.exec(lines[i]);
      if (heading && !title) {
        title = heading[1].replace(/[*_`]/g, '');
        continue;
      }
      if (!summary && title && lines[i].trim() && !heading) {
        summary = lines
          .slice(i)
          .join('\n')
          .split(/\n\s*\n/)[0]
          .trim();
      }
    }
    if (title && summary) {
      break;
    }
  }
  if (!title) {
    title = (path.split('/').pop() ?? path).replace(/\.ipynb$/, '').replace(/[-_]+/g, ' ');
  }
  const draft: Record<string, unknown> = { type: 'notebook', title, summary };
  const authors = (metadata.authors ?? [])
    .map((a: any) => (typeof a === 'string' ? a : a?.name))
    .filter((a: unknown) => typeof a === 'string' && a);
  if (authors.length) {
    draft.authors = authors;
  }
  const language = metadata.kernelspec?.language ?? metadata.language_info?.name;
  if (typeof language === 'string') {
    draft.keywords = [language];
  }
  if (Array.isArray(metadata.keywords)) {
    draft.keywords = metadata.keywords.filter((k: unknown) => typeof k === 'string');
  }
  draft.year = new Date().getFullYear();
  draft.languages = ['en'];
  return draft;
}

/** The Python snippet that loads a dataset kept under ~/datasets. */
export function loadCode(item: IItem): string {
  const folder = (item.dataset?.datapackage ?? '').split('/')[1] ?? item.id;
  return [
    'from pathlib import Path',
    '',
    'import pandas as pd',
    'from frictionless import Package',
    '',
    `folder = Path.home() / "datasets" / "${folder}"`,
    'package = Package(str(folder / "datapackage.json"))',
    'for resource in package.resources:',
    '    print(resource.name, resource.path)',
    '',
    '# The first table of the data package, with pandas',
    'df = pd.read_csv(folder / package.resources[0].path)',
    'df.head()',
    ''
  ].join('\n');
}
