/**
 * The catalogue of operator and sink types a topology may name. The compiler validates every
 * node's `type` and `options` against it, so the file schema itself never hard-codes a type.
 *
 * {@link defaultCatalog} holds the built-in types (builtin-types.ts); register more with
 * {@link registerOperator} / {@link registerSink}, or build an isolated one with
 * {@link createCatalog} (tests do).
 */
import type { z } from 'zod';
import { BUILTIN_OPERATORS, BUILTIN_SINKS } from './builtin-types.ts';

/** A registered operator type. */
export interface OperatorType {
  /** One line shown by `herald topology explain` and in error hints. */
  description: string;
  /**
   * Validates a node's `options` (snake_case keys) and fills in defaults. Use a strict object so
   * unknown options are errors. Its output is `CompiledOperator.options`.
   */
  optionsSchema: z.ZodType<Record<string, unknown>>;
  /**
   * True when the operator picks the output partition by a record field: only such types may be
   * used by `kind: repartition` nodes, and their options must have a string `key` (the field),
   * which must equal the `key` of the log the node writes.
   */
  repartition?: boolean;
}

/** A registered sink type. */
export interface SinkType {
  description: string;
  /** Validates a node's `options`; its output is `CompiledSink.options`. */
  optionsSchema: z.ZodType<Record<string, unknown>>;
  /** True when the sink appends to a log topic (the node's `log`), false for external outputs. */
  writesLog: boolean;
  /**
   * True when the sink writes its own `log` (required on the node) even when it reads a
   * repartition, instead of the repartition's log (e.g. `fanout-pages` beside `routing`).
   */
  ownLog?: boolean;
}

/** Operator and sink types by type name (e.g. `bloom-dedup`, `routing`). */
export interface TopologyCatalog {
  operators: Record<string, OperatorType>;
  sinks: Record<string, SinkType>;
}

const TYPE_NAME = /^[a-z][a-z0-9-]{0,63}$/;

function checkTypeName(type: string): void {
  if (!TYPE_NAME.test(type)) {
    throw new TypeError(`catalogue type name "${type}" must be kebab-case: a-z, 0-9 and -, starting with a letter, at most 64 characters`);
  }
}

/**
 * A new catalogue holding the built-in types (operators `subscription-join`, `bloom-dedup`,
 * `user-repartition`; sinks `routing`, `edge-delivery`). Registering into it leaves other
 * catalogues unchanged.
 */
export function createCatalog(): TopologyCatalog {
  const catalog: TopologyCatalog = { operators: Object.create(null), sinks: Object.create(null) };
  for (const [type, entry] of Object.entries(BUILTIN_OPERATORS)) registerOperator(catalog, type, entry);
  for (const [type, entry] of Object.entries(BUILTIN_SINKS)) registerSink(catalog, type, entry);
  return catalog;
}

/**
 * Adds an operator type to `catalog`.
 * @throws TypeError when `type` is not kebab-case or is already registered.
 */
export function registerOperator(catalog: TopologyCatalog, type: string, entry: OperatorType): void {
  checkTypeName(type);
  if (Object.hasOwn(catalog.operators, type)) throw new TypeError(`operator type "${type}" is already registered`);
  catalog.operators[type] = entry;
}

/**
 * Adds a sink type to `catalog`.
 * @throws TypeError when `type` is not kebab-case or is already registered.
 */
export function registerSink(catalog: TopologyCatalog, type: string, entry: SinkType): void {
  checkTypeName(type);
  if (Object.hasOwn(catalog.sinks, type)) throw new TypeError(`sink type "${type}" is already registered`);
  catalog.sinks[type] = entry;
}

/** The operator type registered as `type`, or undefined (own entries only: `constructor` is not a type). */
export function findOperatorType(catalog: TopologyCatalog, type: string): OperatorType | undefined {
  return Object.hasOwn(catalog.operators, type) ? catalog.operators[type] : undefined;
}

/** The sink type registered as `type`, or undefined. */
export function findSinkType(catalog: TopologyCatalog, type: string): SinkType | undefined {
  return Object.hasOwn(catalog.sinks, type) ? catalog.sinks[type] : undefined;
}

/** The process-wide catalogue the compiler uses unless given another one. */
export const defaultCatalog: TopologyCatalog = createCatalog();
