/**
 * The page shell every page shares: navigation, the stylesheet, uPlot (served
 * by kiln from node_modules under /static/vendor/) and kiln's client script.
 */
import type { Response } from 'express';
import { html, type SafeHtml } from './html.js';

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** Name of the logged-in token, if any. */
  user?: string;
  charts?: boolean;
}

export function renderLayout(options: LayoutOptions): string {
  const { title, body, user, charts } = options;
  return `<!doctype html>${
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · kiln</title>
        <link rel="stylesheet" href="/static/kiln.css" />
        ${
          charts
            ? html`<link rel="stylesheet" href="/static/vendor/uPlot.min.css" />
                <script src="/static/vendor/uPlot.iife.min.js"></script>`
            : ''
        }
        <script src="/static/kiln.js" defer></script>
      </head>
      <body>
        <header>
          <nav>
            <a href="/runs" class="brand">kiln</a>
            <a href="/runs">Runs</a>
            <a href="/compare">Compare</a>
            <a href="/launch">Launch</a>
            <a href="/schedules">Schedules</a>
            <a href="/deliveries">Deliveries</a>
            <a href="/admin/queues">Queues</a>
            <span class="user"
              >${
                user
                  ? html`${user} ·
                      <form method="post" action="/logout" class="inline">
                        <button>log out</button>
                      </form>`
                  : html`<a href="/login">log in</a>`
              }</span
            >
          </nav>
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`.value
  }`;
}

export function sendPage(res: Response, options: LayoutOptions): void {
  res.type('text/html').send(renderLayout(options));
}
