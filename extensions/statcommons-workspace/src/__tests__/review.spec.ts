import { ServiceError } from '../request';
import { sendReview } from '../review';

const ITEM = { id: 'small-area-estimation', type: 'publication' as const, title: 'Small area estimation', revision: 3 };

function fakeApi(answer: () => any) {
  const calls: { endPoint: string; body: any }[] = [];
  const api = jest.fn(async (endPoint: string, init?: RequestInit) => {
    calls.push({ endPoint, body: init?.body ? JSON.parse(String(init.body)) : undefined });
    const result = answer();
    if (result instanceof Error) {
      throw result;
    }
    return result;
  });
  return { api, calls };
}

describe('sendReview', () => {
  it('sends the decision with the revision the curator saw', async () => {
    const { api, calls } = fakeApi(() => ({ ...ITEM, status: 'published' }));
    const outcome = await sendReview(api, ITEM, 'publish');
    expect(calls).toEqual([
      { endPoint: 'library/api/items/small-area-estimation/review', body: { decision: 'publish', revision: 3 } }
    ]);
    expect(outcome).toEqual({ outcome: 'reviewed', message: 'Published “Small area estimation”.' });
  });

  it('sends a rejection with its reason', async () => {
    const { api, calls } = fakeApi(() => ({ ...ITEM, status: 'rejected' }));
    expect((await sendReview(api, ITEM, 'reject', 'Add the methods.')).outcome).toBe('reviewed');
    expect(calls[0].body).toEqual({ decision: 'reject', revision: 3, reason: 'Add the methods.' });
  });

  it('reports an item that changed since, with the library’s words', async () => {
    const detail = "'small-area-estimation' changed since revision 3 (it is at revision 4 now): read it again";
    const { api } = fakeApi(() => new ServiceError(409, detail, 'library'));
    expect(await sendReview(api, ITEM, 'publish')).toEqual({ outcome: 'changed', message: `Not published: ${detail}` });
  });

  it('reports other failures as failures', async () => {
    const { api } = fakeApi(() => new ServiceError(502, 'connection refused', 'library'));
    expect(await sendReview(api, ITEM, 'reject', 'x')).toEqual({
      outcome: 'failed',
      message: 'The library service did not answer (502): connection refused'
    });
  });
});
