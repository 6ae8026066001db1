/**
 * A curator's decision on a submitted item. It is sent with the revision of the item the
 * curator looked at: when the item changed since (its submitter edited it), the library
 * refuses it (409) and publishes nothing; the caller shows why and reloads the item, to be
 * read again.
 */
import type { IItem } from './model';
import type { Api } from './panel';
import { jsonBody, ServiceError } from './request';

export type Decision = 'publish' | 'reject';

/** What came of a decision: done, refused because the item is not as read (`changed`), not sent, or failed. */
export interface IReviewOutcome {
  outcome: 'reviewed' | 'changed' | 'cancelled' | 'failed';
  /** What to tell the curator (empty when cancelled). */
  message: string;
}

/** Ask for a decision on an item as the curator sees it (the app asks to confirm, and a reason). */
export type Review = (item: IItem, decision: Decision) => Promise<IReviewOutcome>;

const DONE: Record<Decision, string> = { publish: 'Published', reject: 'Rejected' };
const NOT_DONE: Record<Decision, string> = { publish: 'Not published', reject: 'Not rejected' };

/** Send a decision on `item` at the revision it had when it was loaded. */
export async function sendReview(api: Api, item: IItem, decision: Decision, reason = ''): Promise<IReviewOutcome> {
  const body: Record<string, unknown> = { decision, revision: item.revision };
  if (decision === 'reject') {
    body.reason = reason;
  }
  try {
    await api(`library/api/items/${encodeURIComponent(item.id)}/review`, jsonBody('POST', body));
  } catch (error) {
    if (error instanceof ServiceError && error.status === 409) {
      return { outcome: 'changed', message: `${NOT_DONE[decision]}: ${error.detail}` };
    }
    return { outcome: 'failed', message: error instanceof ServiceError ? error.message : String(error) };
  }
  return { outcome: 'reviewed', message: `${DONE[decision]} “${item.title}”.` };
}
