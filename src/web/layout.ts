/**
 * The page shell every page shares: a skip link, the navigation (Queues
 * only for admins), the stylesheet, uPlot and the parallel-coordinates
 * library when a page draws charts (served by kiln from node_modules under
 * /static/vendor/: no page loads anything from another site) and kiln's
 * client script, which reads `data-page` to know what to wire up.
 */
import type { Response } from 'express';
import { html, type SafeHtml } from './html.js';

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** The h1, when it says more than the title (badges, links). */
  heading?: SafeHtml;
  /** Name of the logged-in token, if any. */
  user?: string;
  role?: 'viewer' | 'admin';
  charts?: boolean;
  parallel?: boolean;
  /** What the client script wires up (`run`, `runs`, `execution`, …). */
  page?: string;
  /** The navigation entry to mark as current. */
  section?: 'runs' | 'compare' | 'launch' | 'schedules' | 'deliveries';
}

export function renderLayout(options: LayoutOptions): string {
  const { title, body, user, charts, section } = options;
  const link = (href: string, name: LayoutOptions['section'], text: string) =>
    html`<a href="${href}" ${section === name ? html`aria-current="page"` : ''}
      >${text}</a
    >`;
  return `<!doctype html>${
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · kiln</title>
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/kiln.css" />
        ${
          charts
            ? html`<link rel="stylesheet" href="/static/vendor/uPlot.min.css" />
                <script src="/static/vendor/uPlot.iife.min.js"></script>`
            : ''
        }
        ${
          options.parallel
            ? html`<script src="/static/vendor/hermes.iife.js"></script>`
            : ''
        }
        <script type="module" src="/static/kiln.js"></script>
      </head>
      <body data-page="${options.page ?? ''}">
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <nav aria-label="kiln">
            <a href="/runs" class="brand">kiln</a>
            ${link('/runs', 'runs', 'Runs')}
            ${link('/compare', 'compare', 'Compare')}
            ${link('/launch', 'launch', 'Launch')}
            ${link('/schedules', 'schedules', 'Schedules')}
            ${link('/deliveries', 'deliveries', 'Deliveries')}
            ${options.role === 'admin' ? html`<a href="/admin/queues">Queues</a>` : ''}
            <span class="user"
              >${
                user
                  ? html`<span>${user}</span>
                      <form method="post" action="/logout" class="inline">
                        <button>Log out</button>
                      </form>`
                  : html`<a href="/login">Log in</a>`
              }</span
            >
          </nav>
        </header>
        <main id="main" tabindex="-1">
          <h1>${options.heading ?? title}</h1>
          ${body}
        </main>
      </body>
    </html>`.value
  }`;
}

export function sendPage(res: Response, options: LayoutOptions): void {
  res.type('text/html').send(renderLayout(options));
}

/** kiln's favicon: a kiln's arch, as SVG. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#111827"/><path d="M6 26V15a10 10 0 0 1 20 0v11z" fill="#f59e0b"/><path d="M12 26v-7a4 4 0 0 1 8 0v7z" fill="#7c2d12"/></svg>`;
