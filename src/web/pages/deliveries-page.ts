/** Each webhook delivery and what kiln did with it, with the reason. */
import type { DeliveryRecord } from '../../intake/delivery-log.js';
import { html, type SafeHtml } from '../html.js';

export function renderDeliveriesPage(deliveries: DeliveryRecord[]): SafeHtml {
  return html`<div class="scroll">
      <table class="deliveries">
        <thead>
          <tr>
            <th scope="col">received</th>
            <th scope="col">event</th>
            <th scope="col">repository</th>
            <th scope="col">ref</th>
            <th scope="col">commit</th>
            <th scope="col">outcome</th>
            <th scope="col">reason</th>
            <th scope="col">runs</th>
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
    </div>
    ${deliveries.length === 0 ? html`<p>No webhook deliveries yet.</p>` : ''}`;
}
