import { showNotices } from '../notices';

describe('showNotices', () => {
  it('shows each notice and dismisses it with a DELETE of its own', async () => {
    const calls: Array<[string, RequestInit | undefined]> = [];
    const api = jest.fn(async (endPoint: string, init?: RequestInit) => {
      calls.push([endPoint, init]);
      if (endPoint === 'projects/api/user') {
        return {
          name: 'dario',
          notices: [
            { id: 7, project: 'ledger', message: 'carla removed you from the project ledger: ...', created: '' }
          ]
        };
      }
      return null;
    });
    const shown: Array<[string, () => Promise<void>]> = [];
    const count = await showNotices(api, (message, dismiss) => shown.push([message, dismiss]));
    expect(count).toBe(1);
    expect(shown[0][0]).toBe('carla removed you from the project ledger: ...');
    await shown[0][1]();
    expect(calls[1]).toEqual(['projects/api/notices/7', { method: 'DELETE' }]);
  });

  it('shows nothing when the projects service does not answer', async () => {
    const api = jest.fn(async () => {
      throw new Error('502');
    });
    const show = jest.fn();
    expect(await showNotices(api, show)).toBe(0);
    expect(show).not.toHaveBeenCalled();
  });
});
