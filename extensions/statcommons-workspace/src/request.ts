/**
 * The request layer: every call the extension makes goes to its own Jupyter server
 * (same origin, Jupyter's cookie and XSRF handling), under `statcommons/`. The server
 * extension forwards allowlisted calls to the library, runner and projects services with the
 * server's own token, so no token is ever handled here.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** One problem of a refused request, as the services report them. */
export interface IProblem {
  path: string;
  message: string;
}

/** Which backend a call was meant for, to name it in messages. */
export type Backend = 'library' | 'runner' | 'projects' | 'workspace';

const NAMES: Record<Backend, string> = {
  library: 'The library service',
  runner: 'The notebook runner',
  projects: 'The projects service',
  workspace: 'Your Jupyter server'
};

/** A request that failed; `message` says what happened in words a user can act on. */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly backend: Backend,
    readonly problems: IProblem[] = []
  ) {
    super(describe(status, detail, backend));
    this.name = 'ServiceError';
  }
}

/** "The library service did not answer (502): ..." and the like. */
export function describe(status: number, detail: string, backend: Backend): string {
  const who = NAMES[backend];
  if (status === 0) {
    return `Your Jupyter server did not answer: ${detail}`;
  }
  if (status === 502 || status === 503 || status === 504) {
    return `${who} did not answer (${status}): ${detail}`;
  }
  if (status === 401 || status === 403) {
    return `${who} refused (${status}): ${detail}`;
  }
  return `${who} answered ${status}: ${detail}`;
}

/**
 * Call the server extension. `endPoint` is relative to `statcommons/`, such as
 * `library/api/items?q=x`. JSON bodies are decoded; errors become ServiceError.
 */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const backend: Backend = endPoint.startsWith('runner/')
    ? 'runner'
    : endPoint.startsWith('library/')
      ? 'library'
      : endPoint.startsWith('projects/')
        ? 'projects'
        : 'workspace';
  const url = URLExt.join(settings.baseUrl, 'statcommons', endPoint);
  let response: Response;
  try {
    // 'no-cache' (revalidate) rather than the default 'no-store', which adds a cache-busting
    // parameter to the URL that the services refuse as unknown.
    response = await ServerConnection.makeRequest(url, { cache: 'no-cache', ...init }, settings);
  } catch (error) {
    throw new ServiceError(0, String((error as Error)?.message ?? error), backend);
  }
  const text = await response.text();
  let data: any = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const detail =
      (data && typeof data.message === 'string' && data.message) ||
      text.slice(0, 200) ||
      response.statusText ||
      'no message';
    throw new ServiceError(response.status, detail, backend, data?.errors ?? []);
  }
  return data as T;
}

/** A JSON request body. */
export function jsonBody(method: string, body: unknown): RequestInit {
  return {
    method,
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' }
  };
}

/** The same-origin address of a file the server forwards (executed notebooks, videos). */
export function serverURL(
  endPoint: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  return URLExt.join(settings.baseUrl, 'statcommons', endPoint);
}
