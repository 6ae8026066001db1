/**
 * Notices of the projects service: what it could not tell the user at the time, such as
 * "your server was restarted without the project's folder" after a removal. Shown once the
 * server is back, as notifications that stay until dismissed; dismissing removes the notice.
 */
import { Api } from './panel';

export interface INotice {
  id: number;
  project: string;
  message: string;
  created: string;
}

/** How a notice is shown: a message and the action that dismisses it. */
export type Show = (message: string, dismiss: () => Promise<void>) => void;

/**
 * Fetch the user's notices and show each; returns how many were shown. A server without the
 * projects service (or one that does not answer) shows nothing: notices are not urgent.
 */
export async function showNotices(api: Api, show: Show): Promise<number> {
  let notices: INotice[] = [];
  try {
    const user: { notices?: INotice[] } = await api('projects/api/user');
    notices = Array.isArray(user?.notices) ? user.notices : [];
  } catch {
    return 0;
  }
  for (const notice of notices) {
    show(notice.message, async () => {
      await api(`projects/api/notices/${encodeURIComponent(String(notice.id))}`, { method: 'DELETE' });
    });
  }
  return notices.length;
}
