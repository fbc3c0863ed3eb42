import type { ComponentChildren } from 'preact';
import { thumbUrl } from '../api.ts';

interface Props { id: string; gone?: boolean; children: ComponentChildren; actions?: ComponentChildren; testid?: string }

/** One image under review: its thumbnail (none once it is deleted), what is said about it, and what can be done. */
export function ReviewImage({ id, gone = false, children, actions, testid = 'review-image' }: Props) {
  return (
    <figure class="review-image" data-testid={testid} data-id={id}>
      {gone ? <div class="gone" title={id}>deleted</div> : <img src={thumbUrl(id)} alt="" loading="lazy" width={104} height={104} title={id} />}
      <figcaption>{children}</figcaption>
      {actions ? <div class="review-actions">{actions}</div> : null}
    </figure>
  );
}
