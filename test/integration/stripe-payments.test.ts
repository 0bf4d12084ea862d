import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import type { CourseRow, UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { codesOf } from '../helpers/graphql-client.js';
import { startStripeStandIn, type StripeStandIn } from '../helpers/stripe-stand-in.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const KEY = 'sk_test_eduflow_stand_in';
const WHSEC = 'whsec_test_eduflow_signing_secret';
const APP_URL = 'https://learn.example.test';
const CHECKOUT = `mutation($c: ID!) { startCheckout(courseId: $c) { url expiresAt } }`;
const VIEW = `query($c: ID!) { course(id: $c) { viewerEntitlement { source } viewerEnrollment { status } viewerCan { enroll purchase } } }`;

let seq = 0;
const next = (prefix: string) => `${prefix}_test_${Date.now().toString(36)}_${++seq}`;

/** A `checkout.session.completed` event as Stripe sends it for a session made by startCheckout. */
function completedEvent(student: UserRow, course: CourseRow, session = next('cs'), pi: string | null = next('pi')) {
  const metadata = { studentId: gid('User', student.id), courseId: gid('Course', course.id) };
  return {
    id: next('evt'),
    object: 'event',
    type: 'checkout.session.completed',
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: session,
        object: 'checkout.session',
        mode: 'payment',
        status: 'complete',
        payment_status: 'paid',
        client_reference_id: metadata.studentId,
        metadata,
        payment_intent: pi,
        amount_total: course.priceCents,
      },
    },
  };
}

function refundEvent(pi: string, refunded = true) {
  return {
    id: next('evt'),
    object: 'event',
    type: 'charge.refunded',
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: next('ch'), object: 'charge', payment_intent: pi, refunded, amount_refunded: 100 } },
  };
}

describe('paid access through Stripe', () => {
  let t: TestApp;
  let stripe: StripeStandIn;
  let webhookUrl: string;
  let owner: UserRow;

  beforeAll(async () => {
    stripe = await startStripeStandIn(KEY);
    t = await startTestApp({
      STRIPE_SECRET_KEY: KEY,
      STRIPE_API_URL: stripe.url,
      STRIPE_WEBHOOK_SECRET: WHSEC,
      PUBLIC_APP_URL: APP_URL,
    });
    webhookUrl = new URL('/webhooks/stripe', t.url).toString();
    owner = await t.make.user({ role: 'INSTRUCTOR' });
  });
  afterAll(async () => {
    await t?.close();
    await stripe?.close();
  });

  async function student() {
    const user = await t.make.user();
    return { user, token: await t.tokenFor(user) };
  }
  const paidCourse = () => t.make.course(owner.id, { priceCents: 12_900, title: 'Bread at Scale' });

  /** Posts the payload signed as Stripe signs it (the SDK's test helper), or with what `sign` gives. */
  async function deliver(
    payload: object | string,
    opts: { secret?: string; timestamp?: number; header?: string | null } = {},
  ) {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const header =
      opts.header !== undefined
        ? opts.header
        : Stripe.webhooks.generateTestHeaderString({
            payload: body,
            secret: opts.secret ?? WHSEC,
            ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
          });
    const res = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(header !== null ? { 'stripe-signature': header } : {}) },
      body,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const state = async (user: UserRow, course: CourseRow) => {
    const db = t.app.database.db;
    const ents = rowsOf<{ source: string; revoked: boolean; session: string | null; pi: string | null }>(
      await db.execute(sql`select source, revoked_at is not null as revoked, checkout_session_id as session,
        payment_intent_id as pi from entitlements where student_id = ${user.id}::uuid and course_id = ${course.id}::uuid
        order by created_at`),
    );
    const enrollments = rowsOf<{ status: string }>(
      await db.execute(
        sql`select status from enrollments where student_id = ${user.id}::uuid and course_id = ${course.id}::uuid`,
      ),
    );
    return { entitlements: ents, enrollments: enrollments.map((e) => e.status) };
  };

  describe('startCheckout', () => {
    it('creates a Checkout Session for the course, naming student and course, and returns its page', async () => {
      const course = await paidCourse();
      const s = await student();
      const before = stripe.created.length;
      const res = await t.gql(CHECKOUT, { c: gid('Course', course.id) }, { token: s.token });
      expect(res.errors).toBeUndefined();
      expect(res.data.startCheckout.url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_standin_/);
      expect(new Date(res.data.startCheckout.expiresAt).getTime()).toBeGreaterThan(Date.now());
      expect(stripe.created.length).toBe(before + 1);
      const sent = stripe.created.at(-1)!;
      const studentId = gid('User', s.user.id);
      const courseId = gid('Course', course.id);
      expect(sent).toMatchObject({
        mode: 'payment',
        'line_items[0][quantity]': '1',
        'line_items[0][price_data][currency]': 'usd',
        'line_items[0][price_data][unit_amount]': '12900',
        'line_items[0][price_data][product_data][name]': 'Bread at Scale',
        client_reference_id: studentId,
        'metadata[studentId]': studentId,
        'metadata[courseId]': courseId,
        'payment_intent_data[metadata][studentId]': studentId,
        'payment_intent_data[metadata][courseId]': courseId,
      });
      expect(sent.success_url).toBe(
        `${APP_URL}/courses/${course.slug}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      );
      expect(sent.cancel_url).toBe(`${APP_URL}/courses/${course.slug}?checkout=cancelled`);
    });

    it('refuses free courses, entitled students and non-students before asking Stripe', async () => {
      const before = stripe.created.length;
      const s = await student();
      const free = await t.make.course(owner.id);
      expect(codesOf(await t.gql(CHECKOUT, { c: gid('Course', free.id) }, { token: s.token }))).toEqual(['CONFLICT']);
      const course = await paidCourse();
      await t.make.entitlement(s.user.id, course.id);
      expect(codesOf(await t.gql(CHECKOUT, { c: gid('Course', course.id) }, { token: s.token }))).toEqual(['CONFLICT']);
      const ownerToken = await t.tokenFor(owner);
      expect(codesOf(await t.gql(CHECKOUT, { c: gid('Course', course.id) }, { token: ownerToken }))).toEqual([
        'FORBIDDEN',
      ]);
      expect(codesOf(await t.gql(CHECKOUT, { c: gid('Course', course.id) }))).toEqual(['UNAUTHENTICATED']);
      expect(stripe.created.length).toBe(before);
    });

    it('answers PAYMENT_UNAVAILABLE (503) when Stripe fails', async () => {
      const course = await paidCourse();
      const s = await student();
      stripe.failing = true;
      try {
        const res = await t.gql(CHECKOUT, { c: gid('Course', course.id) }, { token: s.token });
        expect(codesOf(res)).toEqual(['PAYMENT_UNAVAILABLE']);
        expect(res.status).toBe(503);
      } finally {
        stripe.failing = false;
      }
    });
  });

  describe('POST /webhooks/stripe', () => {
    it('grants a PURCHASE entitlement and enrolls on checkout.session.completed, visible through the cache', async () => {
      const course = await paidCourse();
      const s = await student();
      const view = async () => {
        const res = await t.gql(VIEW, { c: gid('Course', course.id) }, { token: s.token });
        return { ...res.data.course, cache: res.headers.get('x-cache') };
      };
      expect(await view()).toMatchObject({ viewerEntitlement: null, viewerCan: { purchase: true } });
      expect((await view()).cache).toBe('HIT');
      const event = completedEvent(s.user, course);
      const res = await deliver(event);
      expect(res).toEqual({ status: 200, body: { received: true, outcome: 'granted' } });
      expect(await state(s.user, course)).toEqual({
        entitlements: [
          { source: 'PURCHASE', revoked: false, session: event.data.object.id, pi: event.data.object.payment_intent },
        ],
        enrollments: ['ACTIVE'],
      });
      expect(await view()).toMatchObject({
        viewerEntitlement: { source: 'PURCHASE' },
        viewerEnrollment: { status: 'ACTIVE' },
        viewerCan: { enroll: false, purchase: false },
      });
    });

    it('handles a session exactly once, whatever the retries and concurrency of deliveries', async () => {
      const course = await paidCourse();
      const s = await student();
      const event = completedEvent(s.user, course);
      // The same event redelivered, and other events about the same session, all at once.
      const others = [1, 2, 3].map(() => ({ ...event, id: next('evt') }));
      const results = await Promise.all([...Array(6).fill(event), ...others].map((e) => deliver(e)));
      expect(results.map((r) => r.status)).toEqual(Array(9).fill(200));
      expect(results.filter((r) => r.body.outcome === 'granted')).toHaveLength(1);
      expect(await state(s.user, course)).toMatchObject({
        entitlements: [{ source: 'PURCHASE' }],
        enrollments: ['ACTIVE'],
      });
      const replay = await deliver(event);
      expect(replay).toEqual({ status: 200, body: { received: true, outcome: 'replayed' } });
      const recorded = rowsOf<{ n: number }>(
        await t.app.database.db.execute(sql`select count(*)::int as n from stripe_events where id = ${event.id}`),
      );
      expect(recorded[0]!.n).toBe(1);
    });

    it('revokes on a full refund and cancels the enrollment; a replayed refund changes nothing', async () => {
      const course = await paidCourse();
      const s = await student();
      const event = completedEvent(s.user, course);
      await deliver(event);
      const partial = await deliver(refundEvent(event.data.object.payment_intent!, false));
      expect(partial.body).toMatchObject({ ignored: 'partial refund' });
      expect((await state(s.user, course)).enrollments).toEqual(['ACTIVE']);
      const refund = refundEvent(event.data.object.payment_intent!);
      expect((await deliver(refund)).body).toEqual({ received: true, outcome: 'revoked' });
      expect(await state(s.user, course)).toMatchObject({
        entitlements: [{ source: 'PURCHASE', revoked: true }],
        enrollments: ['CANCELLED'],
      });
      expect((await deliver(refund)).body).toEqual({ received: true, outcome: 'replayed' });
      // The completion redelivered after the refund grants nothing again.
      expect((await deliver(event)).body).toEqual({ received: true, outcome: 'replayed' });
      expect((await state(s.user, course)).enrollments).toEqual(['CANCELLED']);
    });

    it('lets a refund that arrives before its completion win', async () => {
      const course = await paidCourse();
      const s = await student();
      const event = completedEvent(s.user, course);
      expect((await deliver(refundEvent(event.data.object.payment_intent!))).body).toEqual({
        received: true,
        outcome: 'ignored',
      });
      await deliver(event);
      expect(await state(s.user, course)).toMatchObject({ entitlements: [{ revoked: true }], enrollments: [] });
    });

    it('refuses bad signatures, stale timestamps and malformed bodies with 400, changing nothing', async () => {
      const course = await paidCourse();
      const s = await student();
      const event = completedEvent(s.user, course);
      const results = [
        await deliver(event, { secret: 'whsec_someone_else' }),
        await deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 600 }),
        await deliver(event, { header: null }),
        await deliver(event, { header: 't=1,v1=deadbeef' }),
        await deliver('{"id": "evt_broken", "type": "checkout.session.completed", '),
        await deliver(JSON.stringify(event).replace('"paid"', '"unpaid"'), {
          header: Stripe.webhooks.generateTestHeaderString({ payload: JSON.stringify(event), secret: WHSEC }),
        }),
      ];
      expect(results.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 400]);
      expect(await state(s.user, course)).toEqual({ entitlements: [], enrollments: [] });
      const recorded = rowsOf<{ n: number }>(
        await t.app.database.db.execute(sql`select count(*)::int as n from stripe_events where id = ${event.id}`),
      );
      expect(recorded[0]!.n).toBe(0);
    });

    it('answers 200 to genuine events it does not act on: unknown types, unpaid sessions, no student or course', async () => {
      const course = await paidCourse();
      const s = await student();
      const unknown = { id: next('evt'), object: 'event', type: 'customer.created', data: { object: { id: 'cus_1' } } };
      const unpaid = completedEvent(s.user, course);
      unpaid.data.object.payment_status = 'unpaid';
      const nobody = completedEvent(s.user, course);
      nobody.data.object.metadata = { studentId: 'not-an-id', courseId: 'neither' };
      nobody.data.object.client_reference_id = 'not-an-id';
      const instructor = completedEvent(owner, course);
      const noData = { id: next('evt'), object: 'event', type: 'checkout.session.completed' };
      for (const e of [unknown, unpaid, nobody, instructor, noData]) {
        const res = await deliver(e);
        expect(res.status).toBe(200);
        expect(res.body.received).toBe(true);
      }
      expect(await state(s.user, course)).toEqual({ entitlements: [], enrollments: [] });
      expect((await state(owner, course)).entitlements).toEqual([]);
    });

    it('keeps an existing grant when a payment arrives for it, and enrolls the student', async () => {
      const course = await paidCourse();
      const s = await student();
      await t.make.entitlement(s.user.id, course.id);
      expect((await deliver(completedEvent(s.user, course))).status).toBe(200);
      expect(await state(s.user, course)).toMatchObject({
        entitlements: [{ source: 'GRANT' }],
        enrollments: ['ACTIVE'],
      });
    });
  });
});

describe('paid access without Stripe configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('answers PAYMENT_UNAVAILABLE to startCheckout and 404 on the webhook', async () => {
    const course = await t.make.course((await t.make.user({ role: 'INSTRUCTOR' })).id, { priceCents: 500 });
    const token = await t.tokenFor(await t.make.user());
    const res = await t.gql(CHECKOUT, { c: gid('Course', course.id) }, { token });
    expect(codesOf(res)).toEqual(['PAYMENT_UNAVAILABLE']);
    const hook = await fetch(new URL('/webhooks/stripe', t.url), { method: 'POST', body: '{}' });
    expect(hook.status).toBe(404);
  });
});
