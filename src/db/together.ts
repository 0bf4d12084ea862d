import { DrizzleQueryError } from 'drizzle-orm';

/** What a prepared statement whose rows travel as JSON (prepared.ts) hands to a batch. */
export interface JsonStatement {
  readonly client: {
    unsafe(query: string, params: unknown[], options: { prepare: boolean }): { values(): Promise<unknown[][]> };
  };
  readonly logger: { logQuery(query: string, params: unknown[]): void };
  /** Its select as one JSON value (`select json_agg(...) from (select ...)`), placeholders `$1`..`$n`. */
  readonly json: string;
  /** Runs it on its own, resolving to its rows. */
  alone(params: unknown[]): Promise<unknown[][]>;
}

interface Member {
  statement: JsonStatement;
  params: unknown[];
  resolve(rows: unknown[][]): void;
  reject(err: unknown): void;
}

let collecting: Member[] | undefined;

/**
 * Runs `issue`; the JSON statements it starts before returning (a catalog page, its
 * instructors and its lessons, all asked for in one tick) travel as one statement,
 * `select (<first>), (<second>), ...`, each a column of JSON. postgres.js would otherwise send
 * each to its own idle connection: three writes, three backends woken, three statements'
 * bookkeeping, where one does. Statements started later (after an await) run on their own, as
 * do those of another database handle. A failure of the joined statement fails each of them.
 */
export function together<T>(issue: () => T): T {
  if (collecting) return issue();
  const members: Member[] = [];
  collecting = members;
  try {
    return issue();
  } finally {
    collecting = undefined;
    send(members);
  }
}

/** The statement's rows, from a batch being collected; undefined when none is (run it alone). */
export function joinBatch(statement: JsonStatement, params: unknown[]): Promise<unknown[][]> | undefined {
  const members = collecting;
  if (!members || (members.length && members[0]!.statement.client !== statement.client)) return undefined;
  return new Promise((resolve, reject) => members.push({ statement, params, resolve, reject }));
}

function send(members: Member[]): void {
  if (members.length === 0) return;
  if (members.length === 1) {
    const [only] = members as [Member];
    only.statement.alone(only.params).then(only.resolve, only.reject);
    return;
  }
  const params: unknown[] = [];
  for (const { params: own } of members) for (const p of own) params.push(p);
  const text = joinedText(members);
  const { client, logger } = members[0]!.statement;
  logger.logQuery(text, params);
  client
    .unsafe(text, params, { prepare: true })
    .values()
    .then(
      (rows) => {
        const row = rows[0]!;
        for (let i = 0; i < members.length; i++) {
          let parsed: unknown[][];
          try {
            parsed = JSON.parse(row[i] as string) as unknown[][];
          } catch (e) {
            members[i]!.reject(e);
            continue;
          }
          members[i]!.resolve(parsed);
        }
      },
      (e: unknown) => {
        for (const m of members) m.reject(new DrizzleQueryError(text, params, e as Error));
      },
    );
}

/**
 * Per first member's statement, the joined texts of the batches it started, by the rest of
 * their statements and parameter counts (a trie). Texts are fixed per statement (prepared.ts
 * builds each once), so a batch repeated (the catalog page, every request) reuses one string:
 * no renumbering and joining per request, and postgres.js, which looks its prepared
 * statements up by text, hashes and compares one string it has already seen.
 */
interface Joined {
  text?: string;
  readonly next: Map<JsonStatement, Map<number, Joined>>;
}

const joinedTexts = new WeakMap<JsonStatement, Map<number, Joined>>();

function joinedText(members: readonly Member[]): string {
  const first = members[0]!;
  let level = joinedTexts.get(first.statement);
  if (!level) joinedTexts.set(first.statement, (level = new Map()));
  let node: Joined | undefined;
  for (let i = 0; i < members.length; i++) {
    const { statement, params } = members[i]!;
    if (i > 0) {
      let byStatement = node!.next.get(statement);
      if (!byStatement) node!.next.set(statement, (byStatement = new Map()));
      level = byStatement;
    }
    node = level.get(params.length);
    if (!node) level.set(params.length, (node = { next: new Map() }));
  }
  return (node!.text ??= joinText(members));
}

function joinText(members: readonly Member[]): string {
  const columns: string[] = [];
  let offset = 0;
  for (const { statement, params } of members) {
    columns.push(`(${offset ? renumbered(statement.json, offset) : statement.json})`);
    offset += params.length;
  }
  return `select ${columns.join(', ')}`;
}

/** `$1`..`$n` moved up by `offset` (only statements `renumberable` says are safe to join). */
function renumbered(text: string, offset: number): string {
  return text.replace(PLACEHOLDER, (_, n: string) => `$${Number(n) + offset}`);
}

const PLACEHOLDER = /\$(\d+)/g;

/**
 * Whether a statement's placeholders can be renumbered as text: Drizzle writes values as
 * `$n` and nothing else here holds a `$` or a quoted literal, so a text with no `'` whose
 * every `$` is a placeholder `$1`..`$n` is safe; anything else is never joined.
 */
export function renumberable(text: string, params: number): boolean {
  if (text.includes("'")) return false;
  const dollars = text.split('$').length - 1;
  let found = 0;
  for (const [, n] of text.matchAll(PLACEHOLDER)) {
    const i = Number(n);
    if (i < 1 || i > params) return false;
    found++;
  }
  return found === dollars;
}
