import {
  createSourceEventStream,
  execute,
  getNamedType,
  isCompositeType,
  Kind,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { getDirective } from '@graphql-tools/utils';
import type { GraphQLContext } from '../context.js';
import { coerceVariables } from '../graphql/coerced-variables.js';

/**
 * One execution per audience: the subscribers of an event that would receive the same
 * payload share one execution of it (and the very same result object).
 *
 * An audience is the document, the operation name, the variables, and the viewer facts the
 * live service authorized the event with (`GraphQLContext.audience`: role and relation to the
 * event's course). The user id joins the key when the selection reaches anything whose value
 * may depend on who the viewer is beyond that: a field `@auth(allow: [SELF])`, a `viewer…` field
 * (the viewer's own mark, permissions, enrollment), or any object
 * outside the event's own course-bound types (`AUDIENCE_TYPES`, e.g. `changedBy: User` or
 * `lesson.course`, whose resolvers filter by viewer). A subscription whose live service sets
 * no audience (notifications: private to their user) executes per subscriber, as graphql-js
 * does.
 *
 * Plugged into graphql-ws through its documented `subscribe` option: the source stream is
 * created per subscriber by graphql-js (the subscribe resolver authorizes and listens), only
 * the mapping of each event to its result is shared.
 */
const AUDIENCE_TYPES: ReadonlySet<string> = new Set(['LessonStatusChange', 'Lesson']);

type Results = Map<string, Promise<ExecutionResult>>;

export function createAudienceSubscribe(schema: GraphQLSchema) {
  const keys = audienceKeys(schema);
  /** Per event object (the bus hands the same parsed object to every listener): results by audience key. */
  const resultsByEvent = new WeakMap<object, Results>();

  const resultFor = (args: ExecutionArgs, event: unknown): Promise<ExecutionResult> | ExecutionResult => {
    const ctx = args.contextValue as GraphQLContext;
    const audience = ctx.audience;
    const run = () => execute({ ...args, rootValue: event });
    if (audience === undefined || typeof event !== 'object' || event === null) return run();
    const key = `${keys.baseOf(args)}\u0000${audience}`;
    let results = resultsByEvent.get(event);
    if (!results) resultsByEvent.set(event, (results = new Map()));
    let result = results.get(key);
    if (!result) results.set(key, (result = Promise.resolve(run())));
    return result;
  };

  return async (args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    // The live service took the socket's sink (ws/fanout.ts): events arrive through it, and
    // the iterable it returned is the sink's own (it yields only what must go through graphql-ws).
    if ((args.contextValue as GraphQLContext).sink?.opened) return source as AsyncGenerator<ExecutionResult>;
    return mapped(source, (event) => resultFor(args, event));
  };
}

/**
 * The part of an audience key that depends on the subscription alone: the document (by
 * identity), the operation name, the coerced variables, and the user id when the selection needs it.
 * The viewer facts of each event (role, relation) complete it.
 */
export function audienceKeys(schema: GraphQLSchema) {
  const needsUserMemo = new WeakMap<DocumentNode, Map<string, boolean>>();
  const needsUser = (document: DocumentNode, operationName: string | null | undefined): boolean => {
    let byName = needsUserMemo.get(document);
    if (!byName) needsUserMemo.set(document, (byName = new Map()));
    const name = operationName ?? '';
    let needs = byName.get(name);
    if (needs === undefined) byName.set(name, (needs = selectionNeedsUser(schema, document, operationName)));
    return needs;
  };
  /** Documents by identity (the document cache hands out one parsed document per query text). */
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  const documentIdOf = (document: DocumentNode): number => {
    let id = documentIds.get(document);
    if (id === undefined) documentIds.set(document, (id = nextDocumentId++));
    return id;
  };
  /** Per subscription (graphql-ws hands each event the subscription's one args object). */
  const bases = new WeakMap<ExecutionArgs, string>();
  return {
    baseOf(args: ExecutionArgs): string {
      let base = bases.get(args);
      if (base !== undefined) return base;
      const ctx = args.contextValue as GraphQLContext;
      base = [
        documentIdOf(args.document),
        needsUser(args.document, args.operationName) ? (ctx.viewer.userId ?? '') : '',
        args.operationName ?? '',
        variablesKey(schema, args),
      ].join('\u0000');
      bases.set(args, base);
      return base;
    },
  };
}

/**
 * The variables as graphql-js coerces them (coerced-variables.ts), never their raw JSON: two
 * subscriptions share an audience only when their resolvers see equal values. Raw JSON writes
 * `Infinity` as `null`, keeps undeclared variables and key order, and omits defaults. Variables
 * that do not coerce (their subscription is refused before any event) get a key of their own.
 */
function variablesKey(schema: GraphQLSchema, args: ExecutionArgs): string {
  const operation = args.document.definitions.find(
    (d): d is OperationDefinitionNode =>
      d.kind === Kind.OPERATION_DEFINITION && (!args.operationName || d.name?.value === args.operationName),
  );
  if (!operation) return `\u0001${uniqueKey++}`;
  const coerced = coerceVariables(schema, operation, args.variableValues ?? undefined);
  return coerced.ok ? coerced.key : `\u0001${uniqueKey++}`;
}

let uniqueKey = 0;

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === 'function';
}

/**
 * What graphql-js's own mapping does (without its per-event execution): `return()` reaches
 * the source at once, so an idle subscription unsubscribes when completed.
 */
function mapped(
  source: AsyncIterable<unknown>,
  map: (event: unknown) => Promise<ExecutionResult> | ExecutionResult,
): AsyncGenerator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  const close = async () => {
    await iterator.return?.();
    return { value: undefined, done: true } as const;
  };
  const generator = {
    async next(): Promise<IteratorResult<ExecutionResult>> {
      const item = await iterator.next();
      if (item.done) return { value: undefined, done: true };
      try {
        return { value: await map(item.value), done: false };
      } catch (err) {
        await close();
        throw err;
      }
    },
    return: close,
    async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return generator;
    },
    [Symbol.asyncDispose]: async () => {
      await close();
    },
  };
  return generator as AsyncGenerator<ExecutionResult>;
}

/** The schema's naming rule for fields whose value is the viewer's own (`viewerCompletedAt`, `viewerCan` ...). */
function isViewerField(name: string): boolean {
  return /^viewer[A-Z]/.test(name);
}

/** Whether a subscription's selection may resolve differently for two viewers of one audience. */
function selectionNeedsUser(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): boolean {
  const operation = document.definitions.find(
    (d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  const root = schema.getSubscriptionType();
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'subscription' || !root)
    return true;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

  const visit = (
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType,
    isRoot: boolean,
    seen: ReadonlySet<string>,
  ): boolean => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT || selection.kind === Kind.FRAGMENT_SPREAD) {
        const spread = selection.kind === Kind.FRAGMENT_SPREAD;
        if (spread && seen.has(selection.name.value)) continue;
        const fragment = spread ? fragments.get(selection.name.value) : selection;
        if (!fragment) return true;
        const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : parent;
        if (!condition || !isCompositeType(condition)) return true;
        if (!isRoot && !AUDIENCE_TYPES.has(condition.name)) return true;
        if (visit(fragment.selectionSet, condition, isRoot, spread ? new Set([...seen, selection.name.value]) : seen))
          return true;
        continue;
      }
      if (selection.name.value === '__typename') continue;
      if (!('getFields' in parent)) return true;
      const field = (parent as GraphQLObjectType).getFields()[selection.name.value];
      if (!field) return true;
      const allow = (getDirective(schema, field, 'auth')?.[0]?.allow ?? []) as string[];
      if (allow.includes('SELF')) return true;
      // `viewer…` fields answer for the signed-in viewer alone (`Lesson.viewerCompletedAt` is
      // one student's own mark): two members of one audience may read different values.
      if (isViewerField(selection.name.value)) return true;
      const type = getNamedType(field.type);
      if (isCompositeType(type)) {
        if (!AUDIENCE_TYPES.has(type.name)) return true;
        if (selection.selectionSet && visit(selection.selectionSet, type, false, seen)) return true;
      }
    }
    return false;
  };
  return visit(operation.selectionSet, root, true, new Set());
}
