/** The token form: the server checks the token and sets the session cookie. */
import { html, type SafeHtml } from '../html.js';

export function renderLoginPage(options: {
  next: string;
  problem?: string;
}): SafeHtml {
  return html`<form method="post" action="/login" id="login" class="panel">
    <p>
      Paste a kiln token. An operator makes one with
      <code>kiln token create --name NAME --role viewer|admin</code>.
    </p>
    <p class="field">
      <label for="token">Token</label>
      <input
        type="password"
        id="token"
        name="token"
        autocomplete="off"
        size="60"
        required
      />
    </p>
    <input type="hidden" name="next" value="${options.next}" />
    <p><button class="primary">Log in</button></p>
    ${
      options.problem
        ? html`<p class="error" role="alert">${options.problem}</p>`
        : ''
    }
  </form>`;
}
