import { PageConfig } from '@jupyterlab/coreutils';
import { Widget } from '@lumino/widgets';
import { labURL, openInNewTab, ProjectsView, projectsPageURL } from '../projects';
import { ServiceError } from '../request';

const SURVEY = {
  name: 'survey',
  title: 'Labour force survey',
  description: 'LFS <2026>',
  role: 'owner',
  members: [
    { name: 'ana', role: 'owner' },
    { name: 'bob', role: 'member' }
  ],
  folder: '~/projects/survey'
};
const CENSUS = { name: 'census-2031', title: 'Census', role: 'member', members: [{ name: 'carl', role: 'owner' }] };

interface ICall {
  endPoint: string;
  method: string;
}

function fakeApi(answer: (endPoint: string, method: string) => any) {
  const calls: ICall[] = [];
  const api = jest.fn(async (endPoint: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    calls.push({ endPoint, method });
    const result = await answer(endPoint, method);
    if (result instanceof Error) {
      throw result;
    }
    return result;
  });
  return { api, calls };
}

describe('ProjectsView', () => {
  let opened: string[];

  function makeView(answer: (endPoint: string, method: string) => any) {
    const { api, calls } = fakeApi(answer);
    opened = [];
    const view = new ProjectsView({ api, openTab: url => opened.push(url), projectsPage: '/stats/services/projects/' });
    Widget.attach(view, document.body);
    return { view, calls };
  }

  afterEach(() => document.body.replaceChildren());

  it('lists the projects with their role, members and folder', async () => {
    const { view, calls } = makeView(endPoint =>
      endPoint === 'projects/api/projects' ? { projects: [SURVEY, CENSUS] } : { projects: ['survey'] }
    );
    await view.load();
    expect(calls.map(c => c.endPoint).sort()).toEqual(['projects/api/projects', 'workspace/projects']);
    const cards = view.list.querySelectorAll('.sc-project');
    expect(Array.from(cards).map(c => c.getAttribute('data-project'))).toEqual(['survey', 'census-2031']);
    const survey = cards[0];
    expect(survey.querySelector('h2')!.textContent).toBe('Labour force survey survey');
    expect(survey.querySelector('.sc-project-description')!.textContent).toBe('LFS <2026>');
    expect(survey.querySelector('.sc-project-description')!.children.length).toBe(0); // text, never markup
    expect(survey.querySelector('.sc-role')!.textContent).toBe('You are an owner');
    expect(survey.querySelector('.sc-members')!.textContent).toBe('ana (owner), bob');
    expect(survey.querySelector('.sc-folder')!.textContent).toBe('~/projects/survey');
    const census = cards[1];
    expect(census.querySelector('.sc-role')!.textContent).toBe('You are a member');
    // Joined since this server started: its folder comes at the next start.
    expect(census.querySelector('.sc-folder')!.textContent).toBe(
      '~/projects/census-2031 (not in this server yet: it appears at its next start)'
    );
    expect(census.querySelector('button')!.textContent).toBe('Open the project server');
    expect(view.node.querySelector('.sc-membership-note')!.textContent).toContain(
      'Membership changes apply to your own server at its next start'
    );
    expect(view.status.textContent).toBe('');
  });

  it('shows the folders without the check when this server cannot list them', async () => {
    const { view } = makeView(endPoint =>
      endPoint === 'projects/api/projects' ? { projects: [SURVEY] } : new ServiceError(500, 'no', 'workspace')
    );
    await view.load();
    expect(view.list.querySelector('.sc-folder')!.textContent).toBe('~/projects/survey');
    expect(view.status.classList.contains('sc-error')).toBe(false);
  });

  it('says how to get a project when there is none', async () => {
    const { view } = makeView(endPoint => (endPoint === 'projects/api/projects' ? { projects: [] } : { projects: [] }));
    await view.load();
    const empty = view.list.querySelector('.sc-empty')!;
    expect(empty.textContent).toBe(
      'You are in no project yet: create one on the Projects page, or ask a project’s owner to add you.'
    );
    const link = empty.querySelector('a')!;
    expect(link.getAttribute('href')).toBe('/stats/services/projects/');
    expect(link.getAttribute('rel')).toBe('noopener');
    expect(view.list.querySelectorAll('.sc-project').length).toBe(0);
  });

  it('says what went wrong when the projects service fails', async () => {
    const { view } = makeView(endPoint =>
      endPoint === 'projects/api/projects'
        ? new ServiceError(502, 'The projects service did not answer: connection refused', 'projects')
        : { projects: [] }
    );
    await view.load();
    expect(view.status.classList.contains('sc-error')).toBe(true);
    expect(view.status.textContent).toBe(
      'The projects service did not answer (502): The projects service did not answer: connection refused'
    );
    expect(view.list.children.length).toBe(0);
  });

  it('starts the project server with a POST, then opens JupyterLab on it in a new tab', async () => {
    let release: (value: unknown) => void = () => undefined;
    const started = new Promise(resolve => (release = resolve));
    const { view, calls } = makeView(async (endPoint, method) => {
      if (endPoint === 'projects/api/projects/census-2031/server' && method === 'POST') {
        await started;
        return { running: true, url: '/user/census-2031-collab/' };
      }
      return endPoint === 'projects/api/projects' ? { projects: [SURVEY, CENSUS] } : { projects: [] };
    });
    await view.load();
    const button = view.list.querySelector('[data-project="census-2031"] button') as HTMLButtonElement;
    button.click();
    await Promise.resolve();
    // While it starts: the button and the status say so, and nothing is opened yet.
    expect(button.disabled).toBe(true);
    expect(button.textContent).toBe('Starting the project server…');
    expect(view.status.textContent).toBe('Starting the project server of census-2031… This can take up to a minute.');
    expect(opened).toEqual([]);
    release(null);
    for (let i = 0; i < 5; i++) {
      await Promise.resolve();
    }
    expect(calls.filter(c => c.method === 'POST')).toEqual([
      { endPoint: 'projects/api/projects/census-2031/server', method: 'POST' }
    ]);
    expect(opened).toEqual(['/user/census-2031-collab/lab']);
    expect(button.disabled).toBe(false);
    expect(button.textContent).toBe('Open the project server');
    expect(view.status.textContent).toBe('The project server of census-2031 opened in a new tab. Open it again');
    const again = view.status.querySelector('a')!;
    expect(again.getAttribute('href')).toBe('/user/census-2031-collab/lab');
    expect(again.getAttribute('rel')).toBe('noopener');
  });

  it('says why a project server did not start, and opens nothing', async () => {
    const { view } = makeView((endPoint, method) =>
      method === 'POST'
        ? new ServiceError(503, 'the project server: survey-collab did not start in time', 'projects')
        : endPoint === 'projects/api/projects'
          ? { projects: [SURVEY] }
          : { projects: ['survey'] }
    );
    await view.load();
    const button = view.list.querySelector('button.sc-open-server') as HTMLButtonElement;
    await view.open(SURVEY as any, button);
    expect(opened).toEqual([]);
    expect(view.status.classList.contains('sc-error')).toBe(true);
    expect(view.status.textContent).toBe(
      'The projects service did not answer (503): the project server: survey-collab did not start in time'
    );
    expect(button.disabled).toBe(false);
  });
});

describe('project links', () => {
  afterEach(() => PageConfig.setOption('hubPrefix', ''));

  it('finds the Projects page next to the hub', () => {
    expect(projectsPageURL('/hub/')).toBe('/services/projects/');
    expect(projectsPageURL('/stats/hub/')).toBe('/stats/services/projects/');
    expect(projectsPageURL('/stats/hub')).toBe('/stats/services/projects/');
    expect(projectsPageURL('')).toBe('/services/projects/');
    PageConfig.setOption('hubPrefix', '/office/hub/');
    expect(projectsPageURL()).toBe('/office/services/projects/');
  });

  it('opens JupyterLab on a server in a tab without a way back', () => {
    expect(labURL('/user/survey-collab/')).toBe('/user/survey-collab/lab');
    const open = jest.spyOn(window, 'open').mockImplementation(() => null);
    openInNewTab('/user/survey-collab/lab');
    expect(open).toHaveBeenCalledWith('/user/survey-collab/lab', '_blank', 'noopener');
    open.mockRestore();
  });
});
