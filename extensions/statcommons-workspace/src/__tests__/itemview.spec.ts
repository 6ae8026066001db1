import { Sanitizer } from '@jupyterlab/apputils';
import { RenderMimeRegistry, standardRendererFactories } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';
import { ItemView } from '../itemview';

const rendermime = new RenderMimeRegistry({
  initialFactories: standardRendererFactories,
  sanitizer: new Sanitizer(),
  markdownParser: { render: async (source: string) => source }
});

async function flush() {
  for (let i = 0; i < 10; i++) {
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}

describe('ItemView review', () => {
  afterEach(() => document.body.replaceChildren());

  it('shows why a decision was refused and the item as it is now', async () => {
    let item = { id: 'paper-b', type: 'publication', title: 'Paper B', summary: 'What the curator read.', status: 'submitted', revision: 1 };
    const api = jest.fn(async (endPoint: string) => {
      if (endPoint === 'library/api/user') {
        return { name: 'cora', can_submit: true, curator: true, admin: false };
      }
      if (endPoint.endsWith('/comments')) {
        return { comments: [] };
      }
      return item;
    });
    const decided: { revision?: number; summary?: string }[] = [];
    const review = jest.fn(async (shown: any) => {
      decided.push({ revision: shown.revision, summary: shown.summary });
      item = { ...item, summary: 'Swapped by the submitter.', revision: 2 };
      return { outcome: 'changed' as const, message: "Not published: 'paper-b' changed since revision 1 (it is at revision 2 now): read it again" };
    });
    const view = new ItemView({ id: 'paper-b', api, rendermime, openPath: async () => undefined, review });
    Widget.attach(view, document.body);
    await view.load();
    expect(view.node.querySelector('.sc-summary')!.textContent).toContain('What the curator read.');

    const publish = Array.from(view.node.querySelectorAll('button')).find(b => b.textContent === 'Publish')!;
    publish.click();
    await flush();
    expect(decided).toEqual([{ revision: 1, summary: 'What the curator read.' }]);
    expect(view.item!.revision).toBe(2);
    expect(view.node.querySelector('.sc-summary')!.textContent).toContain('Swapped by the submitter.');
    const message = view.node.querySelector('.sc-message')!;
    expect(message.textContent).toContain('changed since revision 1');
    expect(message.classList.contains('sc-error')).toBe(true);
  });
});
