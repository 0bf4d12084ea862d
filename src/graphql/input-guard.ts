import { MapperKind, mapSchema } from '@graphql-tools/utils';
import {
  defaultFieldResolver,
  getNamedType,
  isInputObjectType,
  isScalarType,
  type GraphQLFieldResolver,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { AppError, type FieldErrors } from '../errors/app-error.js';

/**
 * Every string a client sends, in any argument or input field, passes through here before a
 * resolver (or a subscription's `subscribe`) sees it, on HTTP and WebSocket alike. Postgres
 * refuses U+0000 in text (a 500 before this check) and a lone UTF-16 surrogate would be
 * silently replaced by U+FFFD on its way to the database, so both are BAD_USER_INPUT naming
 * the field (`input.title`, `filter.search`, `reason`).
 *
 * It works on the arguments graphql has already coerced against the schema, so the walk is
 * bounded by the schema's own input types, never by how deep a client nests a value.
 */
export function applyInputGuard(schema: GraphQLSchema): GraphQLSchema {
  const textual = new Map<string, boolean>();
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field) => {
      const args = Object.values(field.args ?? {});
      if (!args.some((arg) => carriesText(arg.type as GraphQLInputType, textual))) return field;
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      const wrapped = { ...field };
      wrapped.resolve = (source, values, ctx, info) => {
        assertCleanText(values);
        return resolve(source, values, ctx, info);
      };
      if (field.subscribe) {
        const subscribe = field.subscribe;
        wrapped.subscribe = (source, values, ctx, info) => {
          assertCleanText(values);
          return subscribe(source, values, ctx, info);
        };
      }
      return wrapped;
    },
  });
}

/** Throws BAD_USER_INPUT naming every argument path whose string the database cannot take. */
function assertCleanText(args: Record<string, unknown>): void {
  const errors: FieldErrors = {};
  visit(args, '', errors, 0);
  if (Object.keys(errors).length) throw AppError.badInput(errors);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A problem with a string, or null when it is fine. */
export function textProblem(value: string): string | null {
  if (value.includes('\u0000')) return 'must not contain NUL (U+0000) characters';
  if (LONE_SURROGATE.test(value)) return 'must be well-formed Unicode (no lone surrogates)';
  return null;
}

// Coerced values nest only as deep as the schema's input types; the bound is a second fence.
const MAX_DEPTH = 32;

function visit(value: unknown, path: string, errors: FieldErrors, depth: number): void {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem) errors[path || 'input'] ??= problem;
    return;
  }
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH || value instanceof Date) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => visit(item, `${path}.${i}`, errors, depth + 1));
    return;
  }
  for (const key of Object.keys(value))
    visit((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key, errors, depth + 1);
}

/** Whether an argument's type can hold a string (String, ID, or an input object with one). */
function carriesText(type: GraphQLInputType, textual: Map<string, boolean>, seen = new Set<string>()): boolean {
  const named = getNamedType(type);
  if (isScalarType(named)) return named.name === 'String' || named.name === 'ID';
  if (!isInputObjectType(named) || seen.has(named.name)) return false;
  const known = textual.get(named.name);
  if (known !== undefined) return known;
  seen.add(named.name);
  const result = Object.values(named.getFields()).some((f) => carriesText(f.type, textual, seen));
  textual.set(named.name, result);
  return result;
}
