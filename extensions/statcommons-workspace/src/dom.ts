/**
 * A tiny element builder: strings become text nodes (never HTML), so nothing that comes
 * from the library can turn into markup by accident.
 */
import { LabIcon } from '@jupyterlab/ui-components';

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) {
      continue;
    }
    if (name === 'class') {
      element.className = String(value);
    } else {
      element.setAttribute(name, value === true ? '' : value);
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** An icon element with an accessible label. */
export function icon(labIcon: LabIcon, label: string, className = 'sc-icon'): HTMLElement {
  const element = labIcon.element({ tag: 'span', className, title: label });
  element.setAttribute('role', 'img');
  element.setAttribute('aria-label', label);
  return element;
}

/** Only http(s) links are shown as links. */
export function safeHref(url: string | undefined): string | undefined {
  return url && /^https?:\/\//i.test(url) ? url : undefined;
}
