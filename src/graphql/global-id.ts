/**
 * Opaque global IDs: base64url("<Type>:<uuid>"). Clients must treat them as opaque; the
 * encoding only has to be stable and unambiguous. Decoding never throws: anything that is
 * not a well-formed ID of a known type yields `null`, which callers turn into null,
 * NOT_FOUND or BAD_USER_INPUT as the field demands (never an internal error).
 */
// Session ids use the same encoding, although Session is no Node: node(id:) answers null for one.
const NODE_TYPES = [
  'User',
  'Course',
  'Lesson',
  'Enrollment',
  'Notification',
  'Session',
  'Quiz',
  'QuizAttempt',
  'Certificate',
  'Category',
  'Section',
  'Review',
  'Entitlement',
] as const;
export type NodeType = (typeof NODE_TYPES)[number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_ID_LENGTH = 128;

export function toGlobalId(type: NodeType, uuid: string): string {
  return Buffer.from(`${type}:${uuid}`, 'utf8').toString('base64url');
}

export function fromGlobalId(id: string): { type: NodeType; uuid: string } | null {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || !/^[A-Za-z0-9_-]+$/.test(id)) {
    return null;
  }
  const decoded = Buffer.from(id, 'base64url').toString('utf8');
  const sep = decoded.indexOf(':');
  if (sep < 0) return null;
  const type = decoded.slice(0, sep) as NodeType;
  const uuid = decoded.slice(sep + 1);
  if (!NODE_TYPES.includes(type) || !UUID.test(uuid)) return null;
  return { type, uuid };
}

/** The uuid behind `id` when it is an ID of `type`, else null. */
export function uuidOf(type: NodeType, id: string): string | null {
  const parsed = fromGlobalId(id);
  return parsed && parsed.type === type ? parsed.uuid : null;
}
