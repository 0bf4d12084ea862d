import Stripe from 'stripe';
import { requireRole } from '../../auth/viewer.js';
import type { Config } from '../../config/config.js';
import { AppError } from '../../errors/app-error.js';
import { toGlobalId, uuidOf } from '../../graphql/global-id.js';
import type { Logger } from '../../logging/logger.js';
import type { RequestScope } from '../../request-scope.js';
import { checkoutRefusal, viewerStanding } from '../enrollments/index.js';

/** How a checkout names its student and course: what the webhook reads back (global IDs). */
function checkoutMetadata(studentId: string, courseId: string) {
  return { studentId: toGlobalId('User', studentId), courseId: toGlobalId('Course', courseId) };
}

/** A Stripe client for the configured API base (Stripe itself, or a local stand-in in tests). */
function stripeClient(secretKey: string, apiUrl: string): Stripe {
  const url = new URL(apiUrl);
  return new Stripe(secretKey, {
    host: url.hostname,
    port: url.port || (url.protocol === 'http:' ? 80 : 443),
    protocol: url.protocol === 'http:' ? 'http' : 'https',
    maxNetworkRetries: 1,
    timeout: 10_000,
  });
}

/** `startCheckout`: a Stripe Checkout Session for one course, paid once, by one student. */
export class CheckoutService {
  private readonly stripe: Stripe | undefined;

  constructor(
    private readonly payments: Config['payments'],
    private readonly log: Logger,
  ) {
    this.stripe = payments.stripeSecretKey ? stripeClient(payments.stripeSecretKey, payments.stripeApiUrl) : undefined;
  }

  async start(scope: RequestScope, courseId: string): Promise<{ url: string; expiresAt: Date }> {
    const viewer = requireRole(scope.viewer, 'STUDENT');
    const uuid = uuidOf('Course', courseId);
    const course = uuid ? await scope.loaders.courses.visibleById.load(uuid) : null;
    if (!course) throw AppError.notFound('Course');
    const { viewerEnrollment, entitled } = await viewerStanding(scope, course);
    const refusal = checkoutRefusal(viewer, course, viewerEnrollment, entitled);
    if (refusal) throw refusal;
    if (!this.stripe) throw new AppError('PAYMENT_UNAVAILABLE', 'Payments are not configured on this server');
    const metadata = checkoutMetadata(viewer.userId, course.id);
    const page = `${this.payments.publicAppUrl}/courses/${encodeURIComponent(course.slug)}`;
    let session: Stripe.Checkout.Session;
    try {
      session = await this.stripe.checkout.sessions.create({
        mode: 'payment',
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: this.payments.currency,
              unit_amount: course.priceCents,
              product_data: { name: course.title },
            },
          },
        ],
        client_reference_id: metadata.studentId,
        metadata,
        payment_intent_data: { metadata },
        success_url: `${page}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${page}?checkout=cancelled`,
      });
    } catch (err) {
      this.log.warn({ err, courseId: course.id }, 'Stripe refused or did not answer a checkout');
      throw new AppError('PAYMENT_UNAVAILABLE', 'The payment provider could not be reached; try again shortly');
    }
    if (!session.url) throw new AppError('PAYMENT_UNAVAILABLE', 'The payment provider returned no payment page');
    return { url: session.url, expiresAt: new Date(session.expires_at * 1000) };
  }
}
