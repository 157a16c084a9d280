/**
 * The MCS driver contract (v0.6) in TypeScript, and the runtime check that
 * an imported module really is a driver. Methods may answer synchronously or
 * with a promise; a TypeScript host awaits either.
 */
import { McsError } from '../errors.js';
import type { Binding, DriverMeta, Tool, ToolParameter } from '../manifest/types.js';
import { assertDriverMeta } from '../manifest/validate.js';

export type { Binding, DriverMeta, Tool, ToolParameter };

type MaybePromise<T> = T | Promise<T>;

/** What a driver returns for one LLM response (contract v0.6 DriverResponse). */
export interface DriverResponse {
  tool_call_result?: unknown;
  call_executed: boolean;
  call_failed: boolean;
  call_detail?: string | null;
  retry_prompt?: string | null;
  messages?: Array<Record<string, unknown>> | null;
}

/** A hybrid driver: describes its tools to the model and acts on the model's answers. */
export interface MCSDriver {
  meta: DriverMeta;
  get_function_description(model_name?: string): MaybePromise<string>;
  get_driver_system_message(model_name?: string): MaybePromise<string>;
  process_llm_response(llm_response: string | Record<string, unknown>, streaming?: boolean): MaybePromise<DriverResponse>;
}

/** A tool driver: lists tools and executes them; an orchestrator composes several. */
export interface MCSToolDriver {
  meta: DriverMeta;
  list_tools(): MaybePromise<Tool[]>;
  execute_tool(tool_name: string, args: Record<string, unknown>): MaybePromise<unknown>;
}

export type HealthStatus = 'OK' | 'ERROR' | 'WARNING' | 'UNKNOWN';

/** Capability mixins, by the flag a driver declares in meta.capabilities. */
export interface SupportsHealthcheck {
  healthcheck(): MaybePromise<{ status: HealthStatus; [key: string]: unknown }>;
}
export interface SupportsAutostart {
  autostart(kwargs?: Record<string, unknown>): MaybePromise<void>;
}
export interface DriverContext {
  system_message: string;
  tools?: Array<Record<string, unknown>> | null;
}
export interface SupportsDriverContext {
  get_driver_context(): MaybePromise<DriverContext>;
}
export interface SupportsNativeTools {
  get_native_tool_context(model_name?: string): MaybePromise<DriverContext>;
}
export interface ToolCallSignaling {
  might_be_tool_call(partial: string): boolean;
  is_complete_tool_call(text: string): boolean;
}
export interface SupportsCache {
  warmup(): MaybePromise<void>;
}
export interface SupportsStatus {
  get_status(): MaybePromise<Record<string, unknown>>;
}

/**
 * The methods each capability flag promises. Flags that describe rather than
 * promise (standalone, orchestratable, streaming) need no method; flags not
 * listed here are carried as given.
 */
export const CAPABILITY_METHODS: Readonly<Record<string, readonly string[]>> = {
  healthcheck: ['healthcheck'],
  autostart: ['autostart'],
  driver_context: ['get_driver_context'],
  native_tools: ['get_native_tool_context'],
  tcs: ['might_be_tool_call', 'is_complete_tool_call'],
  cache: ['warmup'],
  status: ['get_status'],
};

const DRIVER_METHODS = ['get_function_description', 'get_driver_system_message', 'process_llm_response'] as const;
const TOOL_DRIVER_METHODS = ['list_tools', 'execute_tool'] as const;

export type DriverKind = 'driver' | 'tool-driver' | 'both';

function hasMethods(value: Record<string, unknown>, names: readonly string[]): boolean {
  return names.every((name) => typeof value[name] === 'function');
}

/**
 * Asserts that a value is an MCS driver or tool driver: the contract's
 * methods are functions, `meta` is a valid DriverMeta, and every capability
 * flag it claims is backed by the method that implements it (a flag without
 * its method would make a host call something that is not there).
 */
export function assertMcsDriver(value: unknown, source: string, expectedMeta?: DriverMeta): asserts value is MCSDriver | MCSToolDriver {
  if (typeof value !== 'object' || value === null) {
    throw new McsError('E_DRIVER_SHAPE', `${source}: expected a driver object, got ${value === null ? 'null' : typeof value}`, { details: { source } });
  }
  const object = value as Record<string, unknown>;
  if (!hasMethods(object, DRIVER_METHODS) && !hasMethods(object, TOOL_DRIVER_METHODS)) {
    const missing = [...DRIVER_METHODS, ...TOOL_DRIVER_METHODS].filter((name) => typeof object[name] !== 'function');
    throw new McsError('E_DRIVER_SHAPE', `${source}: not an MCS driver (needs ${DRIVER_METHODS.join(', ')}) nor a tool driver (needs ${TOOL_DRIVER_METHODS.join(', ')}); missing ${missing.join(', ')}`, {
      details: { source, missing },
    });
  }
  // a meta equal to one already validated (the index's declaration) needs no second schema pass
  if (!expectedMeta || canonical(object.meta) !== canonical(expectedMeta)) assertDriverMeta(object.meta, source);
  for (const flag of (object.meta as DriverMeta).capabilities) {
    const missing = (CAPABILITY_METHODS[flag] ?? []).filter((name) => typeof object[name] !== 'function');
    if (missing.length > 0) {
      throw new McsError('E_DRIVER_CAPABILITY', `${source}: claims the capability "${flag}" but has no ${missing.join(', ')} method`, { details: { source, capability: flag, missing } });
    }
  }
}

/**
 * JSON with object keys sorted (by UTF-16 code units; array-index keys
 * first, in numeric order, as JavaScript lists them), so that two equal
 * values compare equal whatever their key order: byte for byte what
 * JSON.stringify gives for the value rebuilt with sorted keys (toJSON
 * honoured, undefined and functions left out of objects and written as null
 * in arrays), written directly because signing and the audit log run it on
 * every record.
 */
export function canonical(value: unknown): string {
  return serialize(value) as string;
}

/** Array-index keys ("0", "42"): JavaScript objects list them first, in numeric order, whatever else is sorted. */
const INDEX_KEY = /^(?:0|[1-9][0-9]*)$/;

function keyOrder(keys: string[]): string[] {
  const sorted = keys.sort();
  const indexes = sorted.filter((key) => INDEX_KEY.test(key) && Number(key) < 4294967295);
  if (indexes.length === 0) return sorted;
  const rest = sorted.filter((key) => !(INDEX_KEY.test(key) && Number(key) < 4294967295));
  return [...indexes.sort((a, b) => Number(a) - Number(b)), ...rest];
}

function serialize(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') value = (value as { toJSON(): unknown }).toJSON();
  if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? undefined : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => serialize(item) ?? 'null').join(',')}]`;
  const parts: string[] = [];
  for (const key of keyOrder(Object.keys(value))) {
    const text = serialize((value as Record<string, unknown>)[key]);
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/** Which contract interfaces a checked driver implements. */
export function driverKind(driver: MCSDriver | MCSToolDriver): DriverKind {
  const object = driver as unknown as Record<string, unknown>;
  const hybrid = hasMethods(object, DRIVER_METHODS);
  const tools = hasMethods(object, TOOL_DRIVER_METHODS);
  return hybrid && tools ? 'both' : hybrid ? 'driver' : 'tool-driver';
}
