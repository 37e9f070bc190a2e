/** What the intake did with one delivery, as recorded in the delivery log. */
import type { DeliveryPatch } from './delivery-log.js';

export type DeliveryOutcome = Required<
  Pick<DeliveryPatch, 'status' | 'runIds' | 'cancelledRunIds'>
> & { reason?: string };

export function makeOutcome(
  status: DeliveryOutcome['status'],
  details: Partial<Omit<DeliveryOutcome, 'status'>> = {},
): DeliveryOutcome {
  return {
    status,
    reason: details.reason,
    runIds: details.runIds ?? [],
    cancelledRunIds: details.cancelledRunIds ?? [],
  };
}
