/**
 * One library item in the main area: its summary (sanitised Markdown), metadata, links,
 * rating and comments, and the actions of its type (open a notebook in the workspace,
 * load or copy a dataset, play a video, install an algorithm; review for curators).
 */
import { Clipboard } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Widget } from '@lumino/widgets';
import { h, icon, safeHref } from './dom';
import { typeIcon } from './icons';
import { renderMarkdown } from './markdown';
import { IComment, IItem, IUser, loadCode, ratingText, runText } from './model';
import { Api } from './panel';
import { jsonBody, serverURL, ServiceError } from './request';
import type { Review } from './review';

export interface IItemViewOptions {
  id: string;
  api: Api;
  rendermime: IRenderMimeRegistry;
  /** Open a file of the home in its editor. */
  openPath: (path: string) => Promise<void>;
  /** A curator's decision on the item as shown (its revision): see review.ts. */
  review: Review;
}

export class ItemView extends Widget {
  item: IItem | null = null;
  private readonly options: IItemViewOptions;
  private readonly message: HTMLElement;

  constructor(options: IItemViewOptions) {
    super();
    this.options = options;
    this.id = `statcommons-item-${options.id}`;
    this.addClass('sc-ItemView');
    this.title.label = options.id;
    this.title.closable = true;
    this.message = h('div', { class: 'sc-message', role: 'status', 'aria-live': 'polite' });
    this.node.append(h('div', { class: 'sc-status' }, 'Loading…'));
  }

  async load(): Promise<void> {
    const { api, id } = this.options;
    let user: IUser | null = null;
    try {
      [this.item, user] = await Promise.all([
        api(`library/api/items/${encodeURIComponent(id)}`),
        api('library/api/user').catch(() => null)
      ]);
    } catch (error) {
      this.node.replaceChildren(h('div', { class: 'sc-status sc-error' }, errorText(error)));
      return;
    }
    const item = this.item!;
    this.title.label = item.title;
    this.title.icon = typeIcon(item.type);
    const summary = h('div', { class: 'sc-summary' });
    const parts: (Node | null)[] = [
      h(
        'header',
        { class: 'sc-item-header' },
        icon(typeIcon(item.type), item.type),
        h('h1', {}, item.title),
        item.status && item.status !== 'published' ? h('span', { class: `sc-badge sc-status-${item.status}` }, item.status) : null
      ),
      item.status_reason ? h('p', { class: 'sc-reason' }, `Reason given by the curator: ${item.status_reason}`) : null,
      this.message,
      this.actions(item, user),
      summary,
      this.metadata(item),
      this.links(item),
      this.rating(item, user),
      this.comments(item, user)
    ];
    this.node.replaceChildren(...parts.filter((p): p is Node => p !== null));
    await renderMarkdown(this.options.rendermime, summary, item.summary ?? '');
  }

  private say(text: string, error = false): void {
    this.message.classList.toggle('sc-error', error);
    this.message.textContent = text;
  }

  private button(label: string, onClick: () => Promise<void>, accept = false): HTMLButtonElement {
    const button = h('button', { class: `jp-mod-styled ${accept ? 'jp-mod-accept' : ''}` }, label);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await onClick();
      } catch (error) {
        this.say(errorText(error), true);
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  private actions(item: IItem, user: IUser | null): HTMLElement {
    const actions = h('div', { class: 'sc-actions' });
    const { api } = this.options;
    if (item.type === 'notebook') {
      actions.append(
        this.button(
          'Open in my workspace',
          async () => {
            this.say('Bringing the notebook into your home…');
            const result = await api('workspace/open-notebook', jsonBody('POST', { item: item.id }));
            await this.options.openPath(result.path);
            this.say(
              result.created
                ? `Copied to ~/${result.path} and opened.`
                : `Opened your copy ~/${result.path} (it was there already and is left as it was).`
            );
          },
          true
        )
      );
    } else if (item.type === 'dataset') {
      const code = loadCode(item);
      if (item.dataset?.datapackage && !/^https?:/.test(item.dataset.datapackage)) {
        actions.append(
          this.button('Copy load code', async () => {
            Clipboard.copyToSystem(code);
            this.say('The load code is in your clipboard.');
          })
        );
        const pick = h('select', { class: 'jp-mod-styled', 'aria-label': 'Project' });
        const add = this.button('Add to project', async () => {
          const result = await api('workspace/add-dataset', jsonBody('POST', { item: item.id, project: pick.value }));
          this.say(`Copied to ~/${result.path}.`);
        });
        const group = h('span', { class: 'sc-add-project', hidden: true }, pick, add);
        actions.append(group);
        void api('workspace/projects')
          .then(({ projects }: { projects: string[] }) => {
            pick.replaceChildren(...projects.map(p => h('option', { value: p }, p)));
            group.hidden = projects.length === 0;
          })
          .catch(() => undefined);
        actions.append(h('pre', { class: 'sc-code' }, code));
      } else if (safeHref(item.dataset?.url ?? item.dataset?.datapackage)) {
        actions.append(h('a', { href: safeHref(item.dataset?.url ?? item.dataset?.datapackage), target: '_blank', rel: 'noopener' }, 'Open the data'));
      }
    } else if (item.type === 'video') {
      if (item.video_file_url) {
        actions.append(
          h('video', {
            class: 'sc-video',
            controls: true,
            preload: 'metadata',
            src: serverURL(`library/api/items/${encodeURIComponent(item.id)}/video`)
          })
        );
      } else if (safeHref(item.video?.url)) {
        actions.append(h('a', { href: safeHref(item.video?.url), target: '_blank', rel: 'noopener' }, 'Watch the video'));
      }
    } else if (item.type === 'algorithm' && item.algorithm) {
      const algorithm = item.algorithm;
      if (algorithm.install) {
        actions.append(
          h('p', {}, `How to install it${algorithm.language ? ` (${algorithm.language})` : ''}:`),
          h('pre', { class: 'sc-code' }, algorithm.install),
          this.button('Copy install command', async () => {
            Clipboard.copyToSystem(algorithm.install!);
            this.say('The install command is in your clipboard.');
          })
        );
      }
      if (algorithm.entry_point) {
        actions.append(h('p', {}, 'Entry point: ', h('code', {}, algorithm.entry_point)));
      }
      if (safeHref(algorithm.repository)) {
        actions.append(h('a', { href: safeHref(algorithm.repository), target: '_blank', rel: 'noopener' }, 'Source repository'));
      }
    }
    if (item.type === 'publication' || item.type === 'experience') {
      const first = (item.links ?? []).find(l => safeHref(l.url));
      if (first) {
        actions.append(h('a', { href: first.url, target: '_blank', rel: 'noopener', class: 'sc-open-link' }, 'Open'));
      }
    }
    if (user?.curator && item.status === 'submitted') {
      for (const decision of ['publish', 'reject'] as const) {
        actions.append(
          this.button(decision === 'publish' ? 'Publish' : 'Reject', async () => {
            const { outcome, message } = await this.options.review(item, decision);
            if (outcome === 'reviewed' || outcome === 'changed') {
              // Changed: show the item as it is now, to be read again before deciding.
              await this.load();
            }
            if (outcome === 'changed') {
              this.say(message, true);
            }
          })
        );
      }
    }
    return actions;
  }

  private metadata(item: IItem): HTMLElement {
    const rows: [string, string | undefined][] = [
      ['Type', item.type],
      ['Authors', item.authors?.join(', ')],
      ['Organisations', item.organisations?.join(', ')],
      ['Year', item.year ? String(item.year) : undefined],
      ['GSBPM', item.gsbpm?.join(', ')],
      ['Topics', item.topics?.join(', ')],
      ['Languages', item.languages?.join(', ')],
      ['Keywords', item.keywords?.join(', ')],
      ['Licence', item.licence],
      ['Submitted by', item.submitter ?? undefined],
      ['Latest run', item.type === 'notebook' ? runText(item.last_run) : undefined]
    ];
    return h(
      'dl',
      { class: 'sc-metadata' },
      ...rows.filter(([, v]) => v).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v!)])
    );
  }

  private links(item: IItem): HTMLElement | null {
    const links = (item.links ?? []).filter(l => safeHref(l.url));
    if (!links.length) {
      return null;
    }
    return h(
      'section',
      { class: 'sc-links' },
      h('h2', {}, 'Links'),
      h('ul', {}, ...links.map(l => h('li', {}, h('a', { href: l.url, target: '_blank', rel: 'noopener' }, l.title ?? l.url))))
    );
  }

  private rating(item: IItem, user: IUser | null): HTMLElement {
    const text = h('span', { class: 'sc-rating' }, ratingText(item.rating));
    const stars = h('div', { class: 'sc-stars', role: 'group', 'aria-label': 'Your rating' });
    if (item.status === 'published' && user?.can_submit) {
      for (let n = 1; n <= 5; n++) {
        const star = h('button', { class: 'sc-star', 'aria-label': `Rate ${n} star${n > 1 ? 's' : ''}`, title: `${n}` }, '★');
        star.addEventListener('click', async () => {
          try {
            const rating = await this.options.api(
              `library/api/items/${encodeURIComponent(item.id)}/rating`,
              jsonBody('PUT', { stars: n })
            );
            text.textContent = ratingText(rating);
            stars.querySelectorAll('.sc-star').forEach((s, i) => s.classList.toggle('sc-on', i < n));
            this.say(`You rated it ${n} of 5.`);
          } catch (error) {
            this.say(errorText(error), true);
          }
        });
        stars.append(star);
      }
    }
    return h('section', { class: 'sc-rate' }, h('h2', {}, 'Rating'), text, stars);
  }

  private comments(item: IItem, user: IUser | null): HTMLElement {
    const list = h('ol', { class: 'sc-comments' });
    const section = h('section', {}, h('h2', {}, 'Comments'), list);
    const path = `library/api/items/${encodeURIComponent(item.id)}/comments`;
    const show = async (comment: IComment) => {
      const body = h('div', { class: 'sc-comment-body' });
      list.append(
        h('li', { class: 'sc-comment' }, h('div', { class: 'sc-comment-meta' }, `${comment.author}, ${comment.created.slice(0, 10)}`), body)
      );
      await renderMarkdown(this.options.rendermime, body, comment.text);
    };
    void this.options
      .api(path)
      .then(async ({ comments }: { comments: IComment[] }) => {
        for (const comment of comments) {
          await show(comment);
        }
      })
      .catch(error => list.append(h('li', { class: 'sc-error' }, errorText(error))));
    if (user?.can_submit) {
      const text = h('textarea', { class: 'jp-mod-styled', 'aria-label': 'Your comment (Markdown)', rows: '3' });
      section.append(
        text,
        this.button('Comment', async () => {
          const comment = await this.options.api(path, jsonBody('POST', { text: text.value }));
          text.value = '';
          await show(comment);
        })
      );
    }
    return section;
  }
}

/** What to tell the user about a failure: the services' messages as they are, other errors by their message. */
export function errorText(error: unknown): string {
  if (error instanceof ServiceError) {
    return error.message;
  }
  if (error instanceof Error) {
    return error.message.charAt(0).toUpperCase() + error.message.slice(1);
  }
  return `Something went wrong: ${String(error)}`;
}
