import { ServerConnection } from '@jupyterlab/services';
import { describe as describeError, requestAPI, ServiceError } from '../request';

/** The error a request fails with. */
async function failure(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('the request did not fail');
}

function settingsAnswering(status: number, body: string, seen: string[] = []) {
  const fetch = jest.fn(async (request: Request | string) => {
    seen.push(typeof request === 'string' ? request : request.url);
    return new Response(body, { status, headers: { 'Content-Type': 'application/json' } });
  });
  return ServerConnection.makeSettings({ baseUrl: 'http://localhost/user/ana/', fetch: fetch as any });
}

describe('requestAPI', () => {
  it('calls its own server under statcommons/ and decodes JSON', async () => {
    const seen: string[] = [];
    const data = await requestAPI<{ total: number }>('library/api/items?q=x', {}, settingsAnswering(200, '{"total": 3}', seen));
    expect(data.total).toBe(3);
    expect(seen).toEqual(['http://localhost/user/ana/statcommons/library/api/items?q=x']);
  });

  it('adds no cache-busting parameter, which the services would refuse', async () => {
    const seen: string[] = [];
    await requestAPI('library/api/schema', {}, settingsAnswering(200, '{}', seen));
    expect(seen[0]).not.toMatch(/\?\d+$|&\d+$/);
  });

  it('names the service that did not answer', async () => {
    const body = JSON.stringify({ status: 502, message: 'The library service did not answer: connection refused' });
    const error = await failure(requestAPI('library/api/items', {}, settingsAnswering(502, body)));
    expect(error).toBeInstanceOf(ServiceError);
    expect(error.status).toBe(502);
    expect(error.message).toBe(
      'The library service did not answer (502): The library service did not answer: connection refused'
    );
  });

  it('passes the problems of a refused request on', async () => {
    const body = JSON.stringify({
      status: 422,
      message: 'the item has 1 problem(s)',
      errors: [{ path: 'languages.0', message: 'expected a code' }]
    });
    const error = await failure(requestAPI('library/api/items', { method: 'POST' }, settingsAnswering(422, body)));
    expect(error.message).toBe('The library service answered 422: the item has 1 problem(s)');
    expect(error.problems).toEqual([{ path: 'languages.0', message: 'expected a code' }]);
  });

  it('says so when the runner refuses, and when the server itself is unreachable', async () => {
    const error = await failure(requestAPI('runner/api/runs', {}, settingsAnswering(403, '{"message": "no"}')));
    expect(error.message).toBe('The notebook runner refused (403): no');
    const fetch = jest.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    const offline = ServerConnection.makeSettings({ baseUrl: 'http://localhost/', fetch: fetch as any });
    const down = await failure(requestAPI('library/api/items', {}, offline));
    expect(down.status).toBe(0);
    expect(down.message).toMatch(/^Your Jupyter server did not answer/);
    expect(describeError(504, 'timeout', 'library')).toBe('The library service did not answer (504): timeout');
  });

  it('names the projects service for calls under projects/', async () => {
    const seen: string[] = [];
    const body = '{"message": "there is no project \'x\' that you are a member of"}';
    const error = await failure(requestAPI('projects/api/projects/x/server', { method: 'POST' }, settingsAnswering(404, body, seen)));
    expect(seen).toEqual(['http://localhost/user/ana/statcommons/projects/api/projects/x/server']);
    expect(error.backend).toBe('projects');
    expect(error.message).toBe("The projects service answered 404: there is no project 'x' that you are a member of");
  });
});
