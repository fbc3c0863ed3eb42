import type { ComponentChildren } from 'preact';
import { thumbUrl } from '../api.ts';

/** One image under review: its thumbnail, what is said about it, and what can be done. */
export function ReviewImage({ id, children, actions, testid = 'review-image' }: { id: string; children: ComponentChildren; actions?: ComponentChildren; testid?: string }) {
  return (
    <figure class="review-image" data-testid={testid} data-id={id}>
      <img src={thumbUrl(id)} alt="" loading="lazy" width={104} height={104} title={id} />
      <figcaption>{children}</figcaption>
      {actions ? <div class="review-actions">{actions}</div> : null}
    </figure>
  );
}
