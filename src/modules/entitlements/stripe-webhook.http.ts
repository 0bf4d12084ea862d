import express, { type Express, type Request, type Response } from 'express';
import Stripe from 'stripe';
import type { Config } from '../../config/config.js';
import { uuidOf } from '../../graphql/global-id.js';
import type { Logger } from '../../logging/logger.js';
import type { Outcome, PurchaseCommands } from './entitlement.purchases.js';

/** Stripe's own events are small; anything much larger is not one of them. */
const MAX_BODY_BYTES = 512 * 1024;

type Handling = { outcome: Outcome } | { ignored: string };

/**
 * `POST /webhooks/stripe`: Stripe's signed events. The signature is verified over the raw body
 * with the SDK (`constructEvent`, its default timestamp tolerance) before anything is read.
 * Answers, as Stripe expects: 400 for what is not a genuine, fresh event (nothing changes);
 * 200 for every genuine one, handled, replayed or ignored (an unknown type, an event naming
 * no student or course), so Stripe does not retry it; 503 when the database cannot record it
 * now (Stripe retries later). Not served (404) without STRIPE_WEBHOOK_SECRET.
 */
export function mountStripeWebhook(payments: Config['payments'], purchases: PurchaseCommands, log: Logger) {
  const secret = payments.stripeWebhookSecret;
  const webhookLog = log.child({ module: 'stripe-webhook' });
  return (app: Express): void => {
    if (!secret) return;
    app.post(
      '/webhooks/stripe',
      express.raw({ type: () => true, limit: MAX_BODY_BYTES }),
      async (req: Request, res: Response) => {
        const signature = req.header('stripe-signature');
        const body: unknown = req.body;
        if (!signature || !Buffer.isBuffer(body)) return void badRequest(res, 'Stripe-Signature and a body required');
        let event: Stripe.Event;
        try {
          event = Stripe.webhooks.constructEvent(body, signature, secret);
        } catch (err) {
          webhookLog.warn({ err: (err as Error).message, requestId: req.requestId }, 'webhook refused');
          return void badRequest(res, 'Invalid signature or stale timestamp');
        }
        let handled: Handling;
        try {
          handled = await handle(event, purchases);
        } catch (err) {
          webhookLog.error({ err, eventId: event.id, type: event.type }, 'webhook event not recorded');
          res.status(503).set('retry-after', '30').json({ received: false });
          return;
        }
        webhookLog.info({ eventId: event.id, type: event.type, ...handled }, 'webhook event');
        res.status(200).json({ received: true, ...handled });
      },
    );
  };
}

function badRequest(res: Response, message: string): void {
  res.status(400).json({ errors: [{ message, extensions: { code: 'BAD_REQUEST' } }] });
}

const idOf = (v: unknown): string | null =>
  typeof v === 'string'
    ? v
    : v && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string'
      ? (v as { id: string }).id
      : null;

/** Reads what a verified event says; events of other types or without what we need are ignored. */
async function handle(event: Stripe.Event, purchases: PurchaseCommands): Promise<Handling> {
  const base = { eventId: String(event.id), eventType: String(event.type) };
  // A delayed payment method completes the session unpaid, then succeeds later.
  if (event.type === 'checkout.session.completed' || event.type === 'checkout.session.async_payment_succeeded') {
    const session = event.data?.object as Partial<Stripe.Checkout.Session> | undefined;
    if (!session || typeof session.id !== 'string') return { ignored: 'no session' };
    if (
      session.mode !== 'payment' ||
      (session.payment_status !== 'paid' && session.payment_status !== 'no_payment_required')
    )
      return { ignored: 'not paid' };
    const metadata = session.metadata ?? {};
    const studentId = uuidOf('User', String(metadata.studentId ?? session.client_reference_id ?? ''));
    const courseId = uuidOf('Course', String(metadata.courseId ?? ''));
    if (!studentId || !courseId) return { ignored: 'no student or course in the session' };
    const paymentIntentId = idOf(session.payment_intent);
    return {
      outcome: await purchases.completed({ ...base, sessionId: session.id, paymentIntentId, studentId, courseId }),
    };
  }
  if (event.type === 'charge.refunded') {
    const charge = event.data?.object as Partial<Stripe.Charge> | undefined;
    const paymentIntentId = idOf(charge?.payment_intent);
    if (!paymentIntentId) return { ignored: 'no payment intent' };
    // A partial refund leaves the purchase standing.
    if (charge?.refunded !== true) return { ignored: 'partial refund' };
    return { outcome: await purchases.refunded({ ...base, paymentIntentId }) };
  }
  return { ignored: 'event type not handled' };
}
