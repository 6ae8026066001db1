import { Sanitizer } from '@jupyterlab/apputils';
import { RenderMimeRegistry, standardRendererFactories } from '@jupyterlab/rendermime';
import { renderMarkdown } from '../markdown';

// Raw HTML passes through Markdown untouched, as it does with JupyterLab's marked parser:
// whatever is dangerous must be removed by the sanitizer.
const passThrough = { render: async (source: string) => source };

const HOSTILE =
  '<img src=x onerror="window.__pwned = 1"> ' +
  '<a data-commandlinker-command="help:about" href="#">about</a> ' +
  '<a href="javascript:window.__pwned = 2">click</a> <script>window.__pwned = 3</script> **bold**';

describe('renderMarkdown', () => {
  const rendermime = new RenderMimeRegistry({
    initialFactories: standardRendererFactories,
    sanitizer: new Sanitizer(),
    markdownParser: passThrough
  });

  it('sanitises hostile markup: no handlers, no command links, no script URLs', async () => {
    const host = document.createElement('div');
    await renderMarkdown(rendermime, host, HOSTILE);
    expect(host.textContent).toContain('about');
    expect(host.querySelector('[onerror]')).toBeNull();
    expect(host.querySelector('[data-commandlinker-command]')).toBeNull();
    expect(host.querySelector('script')).toBeNull();
    for (const link of Array.from(host.querySelectorAll('a'))) {
      expect(link.getAttribute('href') ?? '').not.toMatch(/^javascript:/i);
    }
    expect((window as any).__pwned).toBeUndefined();
  });

  it('goes through the registry sanitizer', async () => {
    const sanitizer = new Sanitizer();
    const spy = jest.spyOn(sanitizer, 'sanitize');
    const registry = new RenderMimeRegistry({ initialFactories: standardRendererFactories, sanitizer, markdownParser: passThrough });
    await renderMarkdown(registry, document.createElement('div'), 'plain *text*');
    expect(spy).toHaveBeenCalled();
  });
});
