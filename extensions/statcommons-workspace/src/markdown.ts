/**
 * Markdown from the library (summaries, comments) is rendered by JupyterLab's own
 * Markdown renderer as UNTRUSTED output: the rendermime registry runs it through its
 * sanitizer, so markup in a summary is inert. Raw text is never set as innerHTML here.
 */
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';

/** Render `text` as sanitised Markdown into `host` (replacing what was there). */
export async function renderMarkdown(
  rendermime: IRenderMimeRegistry,
  host: HTMLElement,
  text: string
): Promise<void> {
  host.replaceChildren();
  const renderer = rendermime.createRenderer('text/markdown');
  const model = rendermime.createModel({
    data: { 'text/markdown': text },
    trusted: false
  });
  await renderer.renderModel(model);
  renderer.addClass('sc-markdown');
  host.appendChild(renderer.node);
}
