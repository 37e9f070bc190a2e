/** Each webhook delivery and what kiln did with it, with the reason. */
import type { DeliveryRecord } from '../../intake/delivery-log.js';
import { html, type SafeHtml } from '../html.js';

export function renderDeliveriesPage(deliveries: DeliveryRecord[]): SafeHtml {
  return html`<table class="deliveries">
      <thead>
        <tr>
          <th>received</th>
          <th>event</th>
          <th>repository</th>
          <th>ref</th>
          <th>commit</th>
          <th>outcome</th>
          <th>reason</th>
          <th>runs</th>
        </tr>
      </thead>
      <tbody>
        ${deliveries.map(
          (delivery) =>
            html`<tr data-delivery="${delivery.id}">
              <td>${delivery.receivedAt}</td>
              <td>
                ${delivery.event ?? ''}${delivery.action ? ` (${delivery.action})` : ''}
              </td>
              <td>${delivery.repository ?? ''}</td>
              <td>${delivery.ref ?? ''}</td>
              <td><code>${(delivery.sha ?? '').slice(0, 12)}</code></td>
              <td>
                <span class="status">${delivery.status}</span
                >${delivery.httpStatus ? ` HTTP ${delivery.httpStatus}` : ''}${delivery.duplicates ? ` (+${delivery.duplicates} redeliveries)` : ''}
              </td>
              <td>${delivery.reason ?? ''}</td>
              <td>
                ${delivery.runIds.map((id) => html`<a href="/runs/${id}">${id}</a> `)}${delivery.cancelledRunIds.length ? html`cancelled: ${delivery.cancelledRunIds.map((id) => html`<a href="/runs/${id}">${id}</a> `)}` : ''}
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${deliveries.length === 0 ? html`<p>No webhook deliveries yet.</p>` : ''}`;
}
