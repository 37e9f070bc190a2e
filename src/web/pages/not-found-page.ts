/** A real page for what does not exist, with the way back. */
import { html, type SafeHtml } from '../html.js';

export function renderNotFoundPage(what: string): SafeHtml {
  return html`<div class="panel">
    <p class="headline">${what}</p>
    <p>
      It may have been mistyped, or removed. Go to
      <a href="/runs">the runs</a>, <a href="/compare">compare</a> or
      <a href="/launch">launch</a>.
    </p>
  </div>`;
}
