/** The extension's icons: the library's own, and one per item type from JupyterLab's set. */
import {
  codeIcon,
  fileIcon,
  LabIcon,
  notebookIcon,
  spreadsheetIcon,
  usersIcon,
  videoIcon
} from '@jupyterlab/ui-components';

const LIBRARY_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16"><g class="jp-icon3" fill="#616161"><path d="M4 3h3v18H4zM8.5 3h3v18h-3zM13.2 4.1l2.9-.8 4.6 17-2.9.8z"/></g></svg>`;

export const libraryIcon = new LabIcon({ name: 'statcommons:library', svgstr: LIBRARY_SVG });

export const TYPE_ICONS: Record<string, LabIcon> = {
  notebook: notebookIcon,
  dataset: spreadsheetIcon,
  video: videoIcon,
  publication: fileIcon,
  algorithm: codeIcon,
  experience: usersIcon
};

export function typeIcon(type: string): LabIcon {
  return TYPE_ICONS[type] ?? fileIcon;
}
