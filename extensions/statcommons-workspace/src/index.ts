/**
 * The StatCommons library extension's plugins: the Library side panel and item views,
 * the notebook commands (submit to the library, run and schedule with the runner) and
 * "My projects" (the user's projects and their project servers), and the projects service's
 * notices.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  ICommandPalette,
  MainAreaWidget,
  Notification,
  showDialog,
  ToolbarButton,
  WidgetTracker
} from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon, runIcon, usersIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import { libraryIcon } from './icons';
import { errorText, ItemView } from './itemview';
import { draftFromNotebook, IItem } from './model';
import { Api, IPanelSettings, LibraryPanel } from './panel';
import { showNotices } from './notices';
import { ProjectsView } from './projects';
import { requestAPI } from './request';
import { Decision, IReviewOutcome, sendReview } from './review';
import { RunsView, runNotebook, scheduleNotebook } from './runs';
import { SubmitForm } from './submit';

const PLUGIN_ID = 'statcommons-workspace:plugin';

export namespace CommandIDs {
  export const openLibrary = 'statcommons:open-library';
  export const openItem = 'statcommons:open-item';
  export const submit = 'statcommons:submit-notebook';
  export const run = 'statcommons:run-notebook';
  export const schedule = 'statcommons:schedule-notebook';
  export const myRuns = 'statcommons:my-runs';
  export const myProjects = 'statcommons:my-projects';
}

const api: Api = (endPoint, init) => requestAPI(endPoint, init);

/**
 * Ask a curator to confirm a decision (and the reason of a rejection), then send it with the
 * revision they looked at. A refusal because the item changed is for the caller to show, next
 * to the item it reloads.
 */
async function review(item: IItem, decision: Decision): Promise<IReviewOutcome> {
  const body = new Widget();
  const reason = document.createElement('textarea');
  reason.className = 'jp-mod-styled sc-reason-input';
  reason.setAttribute('aria-label', 'Reason for the submitter');
  reason.rows = 4;
  const intro = document.createElement('p');
  intro.textContent =
    decision === 'publish'
      ? `Publish “${item.title}”? Everyone will find it in the library.`
      : `Reject “${item.title}”? Tell the submitter why:`;
  body.node.append(intro);
  if (decision === 'reject') {
    body.node.append(reason);
  }
  const result = await showDialog({
    title: decision === 'publish' ? 'Publish' : 'Reject',
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: decision === 'publish' ? 'Publish' : 'Reject' })]
  });
  if (!result.button.accept) {
    return { outcome: 'cancelled', message: '' };
  }
  const outcome = await sendReview(api, item, decision, reason.value);
  if (outcome.outcome === 'reviewed') {
    Notification.success(outcome.message, { autoClose: 4000 });
  } else if (outcome.outcome === 'failed') {
    Notification.error(outcome.message, { autoClose: 8000 });
  }
  return outcome;
}

/**
 * A command showing one view of its kind in the main area: made on first use (and again once
 * closed), then shown and reloaded each time.
 */
function singleView<T extends Widget & { load(): Promise<void> }>(
  shell: JupyterFrontEnd.IShell,
  id: string,
  label: string,
  icon: LabIcon,
  make: () => T
): () => Promise<void> {
  let widget: MainAreaWidget<T> | null = null;
  return async () => {
    if (!widget || widget.isDisposed) {
      widget = new MainAreaWidget({ content: make() });
      widget.id = id;
      widget.title.label = label;
      widget.title.icon = icon;
      shell.add(widget, 'main');
    }
    shell.activateById(widget.id);
    await widget.content.load();
  };
}

const libraryPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The StatCommons library: a side panel to search it, item views, submissions and reviews, notebook runs.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [ISettingRegistry, ILayoutRestorer, ILauncher, ICommandPalette, INotebookTracker, IMainMenu],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    settingRegistry: ISettingRegistry | null,
    restorer: ILayoutRestorer | null,
    launcher: ILauncher | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    mainMenu: IMainMenu | null
  ) => {
    const { commands, shell } = app;
    const items = new WidgetTracker<MainAreaWidget<ItemView>>({ namespace: 'statcommons-item' });
    const openPath = async (path: string) => {
      await commands.execute('docmanager:open', { path, factory: 'Notebook' });
    };

    const panel = new LibraryPanel({
      api,
      openItem: id => void commands.execute(CommandIDs.openItem, { id }),
      review
    });
    panel.title.icon = libraryIcon;
    shell.add(panel, 'left', { rank: 400 });
    if (restorer) {
      restorer.add(panel, 'statcommons-library');
      void restorer.restore(items, {
        command: CommandIDs.openItem,
        args: widget => ({ id: widget.content.item?.id ?? widget.id.replace('statcommons-item-', '') }),
        name: widget => widget.id
      });
    }
    const start = () => void panel.start();
    void app.restored.then(() => {
      if (panel.isVisible) {
        start();
      }
    });

    if (settingRegistry) {
      void settingRegistry.load(PLUGIN_ID).then(settings => {
        const apply = () => panel.configure(settings.composite as unknown as Partial<IPanelSettings>);
        apply();
        settings.changed.connect(apply);
      }).catch(error => console.warn('statcommons-workspace: settings not loaded', error));
    }

    commands.addCommand(CommandIDs.openLibrary, {
      label: 'Library',
      caption: 'Search the StatCommons library',
      icon: libraryIcon,
      execute: () => {
        shell.activateById(panel.id);
        start();
        panel.searchBox.focus();
      }
    });

    commands.addCommand(CommandIDs.openItem, {
      label: 'Open library item',
      execute: async args => {
        const id = String(args.id ?? '');
        const existing = items.find(w => w.content.id === `statcommons-item-${id}`);
        if (existing) {
          shell.activateById(existing.id);
          return;
        }
        const view = new ItemView({ id, api, rendermime, openPath, review });
        const widget = new MainAreaWidget({ content: view });
        widget.id = `statcommons-item-widget-${id}`;
        widget.title.label = id;
        widget.title.icon = libraryIcon;
        view.title.changed.connect(() => {
          widget.title.label = view.title.label;
        });
        await items.add(widget);
        shell.add(widget, 'main');
        shell.activateById(widget.id);
        await view.load();
      }
    });

    commands.addCommand(CommandIDs.myRuns, {
      label: 'My notebook runs',
      caption: 'Your runs and schedules of the notebook runner',
      execute: singleView(shell, 'statcommons-runs-widget', 'My runs', runIcon, () => new RunsView(api))
    });

    commands.addCommand(CommandIDs.myProjects, {
      label: 'My projects',
      caption: 'Your projects: their folders, and their project servers to edit notebooks together',
      icon: usersIcon,
      execute: singleView(
        shell,
        'statcommons-projects-widget',
        'My projects',
        usersIcon,
        () => new ProjectsView({ api })
      )
    });

    // Notebook commands: they act on the current notebook.
    // The notebook of a toolbar button (args.path), else the current one.
    const current = (args: { path?: unknown } = {}): NotebookPanel | null =>
      (typeof args.path === 'string' ? notebooks?.find(w => w.context.path === args.path) : null) ??
      notebooks?.currentWidget ??
      null;
    const hasNotebook = () => current() !== null;

    commands.addCommand(CommandIDs.submit, {
      label: 'Submit to library…',
      caption: 'Submit this notebook to the StatCommons library for review',
      icon: libraryIcon,
      isEnabled: hasNotebook,
      execute: async args => {
        const notebook = current(args);
        if (!notebook) {
          return;
        }
        const content = notebook.context.model.toJSON() as any;
        const form = new SubmitForm({
          api,
          draft: draftFromNotebook(content, notebook.context.path),
          fileName: notebook.context.path,
          notebook: () => notebook.context.model.toJSON(),
          submitted: () => void panel.refresh()
        });
        const widget = new MainAreaWidget({ content: form });
        widget.id = `statcommons-submit-${Date.now()}`;
        widget.title.label = 'Submit to library';
        widget.title.icon = libraryIcon;
        shell.add(widget, 'main', { mode: 'split-right' });
        shell.activateById(widget.id);
        await form.start();
      }
    });

    const runCommand = (id: string, label: string, action: typeof runNotebook) =>
      commands.addCommand(id, {
        label,
        isEnabled: hasNotebook,
        execute: async () => {
          const notebook = current();
          if (!notebook) {
            return;
          }
          try {
            if (notebook.context.model.dirty) {
              await notebook.context.save();
            }
            const message = await action(api, notebook.context.path);
            if (message) {
              Notification.success(message, {
                autoClose: 6000,
                actions: [{ label: 'My runs', callback: () => void commands.execute(CommandIDs.myRuns) }]
              });
            }
          } catch (error) {
            Notification.error(errorText(error), { autoClose: 10000 });
          }
        }
      });
    runCommand(CommandIDs.run, 'Run this notebook with the runner…', runNotebook);
    runCommand(CommandIDs.schedule, 'Schedule this notebook…', scheduleNotebook);

    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (widget: NotebookPanel) => {
        const button = new ToolbarButton({
          icon: libraryIcon,
          tooltip: 'Submit to library',
          label: 'Submit',
          onClick: () => void commands.execute(CommandIDs.submit, { path: widget.context.path })
        });
        button.addClass('sc-submit-button');
        widget.toolbar.insertItem(10, 'statcommons-submit', button);
        return button;
      }
    });

    if (palette) {
      for (const command of Object.values(CommandIDs)) {
        if (command !== CommandIDs.openItem) {
          palette.addItem({ command, category: 'StatCommons' });
        }
      }
    }
    if (launcher) {
      launcher.add({ command: CommandIDs.openLibrary, category: 'Other', rank: 0 });
      launcher.add({ command: CommandIDs.myProjects, category: 'Other', rank: 1 });
    }
    // What the projects service could not tell the user at the time (a restart without a project).
    void app.restored.then(() =>
      showNotices(api, (message, dismiss) => {
        Notification.warning(message, {
          autoClose: false,
          actions: [
            { label: 'Dismiss', callback: () => void dismiss().catch(error => console.warn('statcommons: notice', error)) },
            { label: 'My projects', callback: () => void commands.execute(CommandIDs.myProjects) }
          ]
        });
      })
    );

    if (mainMenu) {
      mainMenu.fileMenu.addGroup([{ command: CommandIDs.submit }], 40);
      mainMenu.runMenu.addGroup([{ command: CommandIDs.run }, { command: CommandIDs.schedule }, { command: CommandIDs.myRuns }], 60);
    }
  }
};

export default [libraryPlugin];
