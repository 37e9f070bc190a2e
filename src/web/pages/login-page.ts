/** The token form: the server checks the token and sets the session cookie. */
import { html, type SafeHtml } from '../html.js';

export function renderLoginPage(options: {
  next: string;
  problem?: string;
}): SafeHtml {
  return html`<form method="post" action="/login" id="login">
    <p>
      Paste a kiln token (<code
        >kiln token create --name NAME --role viewer|admin</code
      >).
    </p>
    <input type="password" name="token" autocomplete="off" size="60" required />
    <input type="hidden" name="next" value="${options.next}" />
    <button>Log in</button>
    ${options.problem ? html`<p class="error">${options.problem}</p>` : ''}
  </form>`;
}
