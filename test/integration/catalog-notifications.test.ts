import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRow } from '../../src/db/schema.js';
import { gid } from '../helpers/factories.js';
import { queryRows } from '../helpers/notifications.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const WHSEC = 'whsec_test_catalog_notifications';
const WRITE = `mutation($c: ID!, $r: Int!) { writeReview(input: { courseId: $c, rating: $r }) { id } }`;
const GRANT = `mutation($c: ID!, $s: ID!) { grantCourseAccess(courseId: $c, studentId: $s) { id } }`;

describe('catalog notifications through the outbox', () => {
  let t: TestApp;
  let instructor: UserRow;
  let instructorToken: string;

  beforeAll(async () => {
    t = await startTestApp({ NOTIFICATION_WORKER: 'on', OUTBOX_POLL_MS: '100', STRIPE_WEBHOOK_SECRET: WHSEC });
    instructor = await t.make.user({ role: 'INSTRUCTOR' });
    instructorToken = await t.tokenFor(instructor);
  });
  afterAll(() => t?.close());

  const notificationsOf = (user: UserRow, kind: string) =>
    queryRows<{ title: string; body: string }>(
      t.app.database.db,
      sql`select title, body from notifications where recipient_id = ${user.id}::uuid and kind = ${kind} order by created_at`,
    );

  it('tells the instructor once per review written or rewritten, never the student', async () => {
    const course = await t.make.course(instructor.id, { title: 'Knife Skills' });
    const student = await t.make.user();
    await t.make.enrollment(student.id, course.id);
    const token = await t.tokenFor(student);
    for (const rating of [3, 5]) {
      const res = await t.gql(WRITE, { c: gid('Course', course.id), r: rating }, { token });
      expect(res.errors).toBeUndefined();
    }
    await expect
      .poll(async () => (await notificationsOf(instructor, 'REVIEW_POSTED')).length, { timeout: 15_000 })
      .toBe(2);
    // A later event through the same outbox: once it is delivered, no extra REVIEW_POSTED is on its way.
    const paid = await t.make.course(instructor.id, { priceCents: 900 });
    await t.gql(GRANT, { c: gid('Course', paid.id), s: gid('User', student.id) }, { token: instructorToken });
    await expect
      .poll(async () => (await notificationsOf(student, 'COURSE_ACCESS_GRANTED')).length, { timeout: 15_000 })
      .toBe(1);
    const reviews = await notificationsOf(instructor, 'REVIEW_POSTED');
    expect(reviews.map((n) => n.title)).toEqual(['New review of Knife Skills', 'New review of Knife Skills']);
    // Delivered by concurrent jobs: in either order.
    expect(reviews.map((n) => n.body.match(/\d out of 5/)?.[0]).sort()).toEqual(['3 out of 5', '5 out of 5']);
    expect(await notificationsOf(student, 'REVIEW_POSTED')).toEqual([]);
  });

  it('tells the student when a grant or a payment gives access, once per event however often Stripe delivers', async () => {
    const course = await t.make.course(instructor.id, { priceCents: 1_500, title: 'Pastry' });
    const buyer = await t.make.user();
    const payload = JSON.stringify({
      id: `evt_notify_${Date.now()}`,
      object: 'event',
      type: 'checkout.session.completed',
      data: {
        object: {
          id: `cs_notify_${Date.now()}`,
          object: 'checkout.session',
          mode: 'payment',
          payment_status: 'paid',
          payment_intent: `pi_notify_${Date.now()}`,
          metadata: { studentId: gid('User', buyer.id), courseId: gid('Course', course.id) },
        },
      },
    });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(new URL('/webhooks/stripe', t.url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: WHSEC }),
        },
        body: payload,
      });
      expect(res.status).toBe(200);
    }
    // Granted after the deliveries: once its notification is out, any duplicate would be too.
    const granted = await t.make.user();
    await t.gql(GRANT, { c: gid('Course', course.id), s: gid('User', granted.id) }, { token: instructorToken });
    await expect
      .poll(async () => (await notificationsOf(granted, 'COURSE_ACCESS_GRANTED')).length, { timeout: 15_000 })
      .toBe(1);
    await expect
      .poll(async () => (await notificationsOf(buyer, 'COURSE_ACCESS_GRANTED')).length, { timeout: 15_000 })
      .toBe(1);
    const events = await queryRows<{ n: number }>(
      t.app.database.db,
      sql`select count(*)::int as n from outbox where type = 'course.access-granted' and payload->>'studentId' = ${buyer.id}`,
    );
    expect(events[0]!.n).toBe(1);
    expect((await notificationsOf(granted, 'COURSE_ACCESS_GRANTED'))[0]!.body).toContain(
      'You were given access to Pastry',
    );
    expect((await notificationsOf(buyer, 'COURSE_ACCESS_GRANTED'))[0]!.body).toContain('Thank you for your purchase');
  });
});
