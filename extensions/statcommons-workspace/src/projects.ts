/**
 * "My projects": the user's projects (from the projects service, through this server's proxy),
 * their folders in this server, and a button that starts a project's server and opens
 * JupyterLab on it in a new tab. Creating projects and changing members stay on the
 * Projects page of the hub.
 */
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { Widget } from '@lumino/widgets';
import { h } from './dom';
import { Api } from './panel';
import { ServiceError } from './request';

export interface IProjectMember {
  name: string;
  role: 'owner' | 'member';
}

/** A project as the projects service describes it (`GET api/projects`). */
export interface IProject {
  name: string;
  title: string;
  description?: string;
  role: 'owner' | 'member' | null;
  members: IProjectMember[];
  folder?: string;
}

/** A project server (`POST api/projects/<name>/server`): its URL path, such as /user/survey-collab/. */
export interface IProjectServer {
  running: boolean;
  url: string;
}

/** The hub's Projects page, next to the hub: `/hub/` gives `/services/projects/`, `/stats/hub/` `/stats/services/projects/`. */
export function projectsPageURL(hubPrefix: string = PageConfig.getOption('hubPrefix')): string {
  const hub = hubPrefix.replace(/\/+$/, '');
  const parent = hub.slice(0, hub.lastIndexOf('/') + 1) || '/';
  return `${parent}services/projects/`;
}

/** JupyterLab on a server, from the server's URL path. */
export function labURL(serverURL: string): string {
  return URLExt.join(serverURL, 'lab');
}

/** A new browser tab that cannot reach back into this page. */
export function openInNewTab(url: string): void {
  window.open(url, '_blank', 'noopener');
}

export interface IProjectsViewOptions {
  api: Api;
  /** How to open a URL in a new tab (default: {@link openInNewTab}). */
  openTab?: (url: string) => void;
  /** The Projects page (default: {@link projectsPageURL}). */
  projectsPage?: string;
}

const ROLES: Record<string, string> = { owner: 'You are an owner', member: 'You are a member' };

function message(error: unknown): string {
  return error instanceof ServiceError || error instanceof Error ? error.message : String(error);
}

/** "My projects": one card per project, with the way into its project server. */
export class ProjectsView extends Widget {
  readonly list: HTMLElement;
  readonly status: HTMLElement;
  private readonly api: Api;
  private readonly openTab: (url: string) => void;
  private readonly projectsPage: string;

  constructor(options: IProjectsViewOptions) {
    super();
    this.api = options.api;
    this.openTab = options.openTab ?? openInNewTab;
    this.projectsPage = options.projectsPage ?? projectsPageURL();
    this.id = 'statcommons-projects';
    this.addClass('sc-ProjectsView');
    this.title.label = 'My projects';
    this.title.closable = true;
    this.status = h('div', { class: 'sc-status', role: 'status', 'aria-live': 'polite' });
    this.list = h('div', { class: 'sc-projects' });
    const refresh = h('button', { class: 'jp-mod-styled' }, 'Refresh');
    refresh.addEventListener('click', () => void this.load());
    this.node.append(
      h('h1', {}, 'My projects'),
      h(
        'p',
        { class: 'sc-hint sc-membership-note' },
        'Each project is a folder, ~/projects/<name> in your server, and a project server where its members ' +
          'edit notebooks together. Membership changes apply to your own server at its next start ' +
          '(File › Hub Control Panel: Stop My Server, then Start My Server).'
      ),
      h(
        'p',
        {},
        'Create projects and manage their members on the ',
        h('a', { href: this.projectsPage, target: '_blank', rel: 'noopener' }, 'Projects page'),
        '. ',
        refresh
      ),
      this.status,
      this.list
    );
  }

  private say(text: string | Node[], error = false): void {
    this.status.classList.toggle('sc-error', error);
    if (typeof text === 'string') {
      this.status.textContent = text;
    } else {
      this.status.replaceChildren(...text);
    }
  }

  async load(): Promise<void> {
    let projects: IProject[];
    let folders: string[] | null;
    this.say('Loading your projects…');
    try {
      [{ projects }, folders] = await Promise.all([
        this.api('projects/api/projects'),
        // The folders this server has now; a project joined since its start is not among them.
        this.api('workspace/projects').then(
          (answer: { projects: string[] }) => answer.projects,
          () => null
        )
      ]);
    } catch (error) {
      this.list.replaceChildren();
      this.say(message(error), true);
      return;
    }
    if (projects.length === 0) {
      this.list.replaceChildren(
        h(
          'p',
          { class: 'sc-empty' },
          'You are in no project yet: create one on the ',
          h('a', { href: this.projectsPage, target: '_blank', rel: 'noopener' }, 'Projects page'),
          ', or ask a project’s owner to add you.'
        )
      );
      this.say('');
      return;
    }
    this.list.replaceChildren(...projects.map(project => this.card(project, folders)));
    this.say('');
  }

  private card(project: IProject, folders: string[] | null): HTMLElement {
    const folder = project.folder ?? `~/projects/${project.name}`;
    const open = h('button', { class: 'jp-mod-styled jp-mod-accept sc-open-server' }, 'Open the project server');
    open.addEventListener('click', () => void this.open(project, open));
    const members = (project.members ?? []).map(m => (m.role === 'owner' ? `${m.name} (owner)` : m.name)).join(', ');
    const missing = folders !== null && !folders.includes(project.name);
    return h(
      'section',
      { class: 'sc-project', 'data-project': project.name },
      h('h2', {}, project.title || project.name, ' ', h('small', { class: 'sc-hint' }, project.name)),
      project.description ? h('p', { class: 'sc-project-description' }, project.description) : null,
      h(
        'dl',
        { class: 'sc-metadata' },
        h('dt', {}, 'Role'),
        h('dd', { class: 'sc-role' }, project.role ? ROLES[project.role] ?? project.role : 'You are not a member (admin)'),
        h('dt', {}, 'Members'),
        h('dd', { class: 'sc-members' }, members),
        h('dt', {}, 'Folder'),
        h(
          'dd',
          { class: 'sc-folder' },
          h('code', {}, folder),
          missing ? h('span', { class: 'sc-hint' }, ' (not in this server yet: it appears at its next start)') : null
        )
      ),
      h('div', { class: 'sc-actions' }, open)
    );
  }

  /** Start the project's server (a minute or so when it is stopped), then open JupyterLab on it in a new tab. */
  async open(project: IProject, button?: HTMLButtonElement): Promise<void> {
    const label = button?.textContent ?? '';
    if (button) {
      button.disabled = true;
      button.textContent = 'Starting the project server…';
    }
    this.say(`Starting the project server of ${project.name}… This can take up to a minute.`);
    try {
      const server: IProjectServer = await this.api(
        `projects/api/projects/${encodeURIComponent(project.name)}/server`,
        { method: 'POST' }
      );
      const url = labURL(server.url);
      this.openTab(url);
      // A browser may block a tab opened this long after the click: the link is the way then.
      this.say([
        document.createTextNode(`The project server of ${project.name} opened in a new tab. `),
        h('a', { href: url, target: '_blank', rel: 'noopener', class: 'sc-server-link' }, 'Open it again')
      ]);
    } catch (error) {
      this.say(message(error), true);
    } finally {
      if (button) {
        button.disabled = false;
        button.textContent = label;
      }
    }
  }
}
