import { stringifyMessage, MessageType } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { gid } from '../helpers/factories.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const SUBSCRIPTION = `subscription($c: ID) { lessonStatusChanged(courseId: $c) { status lesson { id title } } }`;
const CREATE_LESSON = `mutation($c: ID!, $t: String!) { createLesson(input: { courseId: $c, title: $t }) { id } }`;

interface Frame {
  text: string;
  binary: boolean;
}

/** A raw graphql-transport-ws socket: the frames exactly as they arrive. */
async function rawSocket(url: string, token: string): Promise<{ socket: WebSocket; frames: Frame[] }> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const frames: Frame[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () =>
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })),
    );
    socket.on('message', (data, binary) => {
      const text = String(data);
      if (JSON.parse(text).type === 'connection_ack') resolve();
      else frames.push({ text, binary });
    });
    socket.on('error', reject);
  });
  return { socket, frames };
}

/**
 * The fan-out writes one serialization per audience with only the subscription id spliced in
 * (ws/fanout.ts): every frame must be byte for byte what graphql-ws itself would send.
 */
describe('live fan-out frames', () => {
  let t: TestApp;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await t?.close();
  });

  it("are graphql-ws' own next messages, as text, for any subscription id", async () => {
    const owner = await t.make.user({ role: 'INSTRUCTOR' });
    const student = await t.make.user();
    const course = await t.make.course(owner.id);
    await t.make.enrollment(student.id, course.id);
    const token = await t.tokenFor(student);
    // Ids that JSON must escape, on one socket and on another.
    const ids = [['1', 'a"b\\\u2028ü'], ['ω-2']];
    const raw = await Promise.all(ids.map(() => rawSocket(t.url, token)));
    raw.forEach(({ socket }, i) => {
      sockets.push(socket);
      for (const id of ids[i]!)
        socket.send(
          JSON.stringify({
            id,
            type: 'subscribe',
            payload: { query: SUBSCRIPTION, variables: { c: gid('Course', course.id) } },
          }),
        );
    });
    const ownerToken = await t.tokenFor(owner);
    const all = () => raw.flatMap((r) => r.frames);
    let n = 0;
    await vi.waitFor(
      async () => {
        const value = await (async () => {
          await t.gql(CREATE_LESSON, { c: gid('Course', course.id), t: `lesson ${n++}` }, { token: ownerToken });
          return raw.every((r, i) => new Set(r.frames.map((f) => JSON.parse(f.text).id)).size === ids[i]!.length);
        })();
        expect(Boolean(value), JSON.stringify(value)).toBe(true);
        return value;
      },
      { timeout: 10_000, interval: 200 },
    );
    const frames = all();
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) {
      expect(frame.binary).toBe(false);
      const message = JSON.parse(frame.text);
      expect(message.type).toBe('next');
      expect(frame.text).toBe(stringifyMessage({ id: message.id, type: MessageType.Next, payload: message.payload }));
      expect(message.payload.errors).toBeUndefined();
      expect(message.payload.data.lessonStatusChanged.status).toBe('SCHEDULED');
    }
    expect(new Set(frames.map((f) => JSON.parse(f.text).id))).toEqual(new Set(ids.flat()));
  });
});
