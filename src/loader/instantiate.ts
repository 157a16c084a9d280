/**
 * Constructing a verified driver and checking it against the index, shared by
 * the in-process loader and the host child: export -> construct with the
 * config -> contract check -> meta, as plain data, equal to what the index
 * records this version declares.
 */
import { assertMcsDriver, canonical, type MCSDriver, type MCSToolDriver } from '../contract/index.js';
import { McsError } from '../errors.js';
import { comparableMeta, contractMeta } from '../manifest/driver-meta.js';
import type { DeclaredDriver } from '../manifest/types.js';

function isClass(value: unknown): boolean {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}

/** A copy of `value` made of own data properties only; accessors, toJSON, symbols, functions and class instances are refused. */
function plainData(value: unknown, where: string, depth = 0): unknown {
  const refuse = (why: string): never => {
    throw new McsError('E_DRIVER_META', `${where} is not plain data: ${why}`, { details: { where } });
  };
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value !== 'object') return refuse(`a ${typeof value}`);
  if (depth > 16) return refuse('nested too deeply');
  const isArray = Array.isArray(value);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!isArray && proto !== Object.prototype && proto !== null) return refuse('an instance of a class');
  const copy: Record<string, unknown> = isArray ? ([] as unknown as Record<string, unknown>) : {};
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key === 'symbol') return refuse('a symbol key');
    if (key === 'toJSON') return refuse('a toJSON method');
    if (isArray && key === 'length') continue;
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if (!('value' in descriptor)) return refuse(`${key} is an accessor`);
    copy[key] = plainData(descriptor.value, `${where}.${key}`, depth + 1);
  }
  return copy;
}

/** Constructs the declared driver with the config, checks the contract, and requires its meta to be what the index declares. */
export function instantiate(module: Record<string, unknown>, declared: DeclaredDriver, config: Record<string, unknown>, spec: string): MCSDriver | MCSToolDriver {
  const exported = module[declared.export ?? 'default'];
  if (typeof exported !== 'function') {
    throw new McsError('E_DRIVER_SHAPE', `${spec}: export ${declared.export ?? 'default'} is ${exported === null ? 'null' : typeof exported}, not a driver class or factory`, { details: { spec } });
  }
  let instance: unknown;
  try {
    instance = isClass(exported) ? new (exported as new (c: unknown) => unknown)(config) : (exported as (c: unknown) => unknown)(config);
  } catch (cause) {
    throw new McsError('E_DRIVER_IMPORT', `${spec}: constructing the driver failed: ${(cause as Error)?.message ?? String(cause)}`, { cause, details: { spec } });
  }
  checkDriver(instance, declared, spec);
  return instance;
}

/**
 * Checks a constructed driver (or a host's proxy of one) against the index:
 * the contract's methods and capability methods, and its meta, as plain data,
 * equal to what the index records this version declares.
 */
export function checkDriver(instance: unknown, declared: DeclaredDriver, spec: string): asserts instance is MCSDriver | MCSToolDriver {
  const expected = declared.meta;
  assertMcsDriver(instance, spec, expected);
  // compared as a copy of its own data: a getter or toJSON could show the check one meta and the host another
  const meta = contractMeta(plainData(instance.meta, `${spec}: meta`) as typeof instance.meta, spec);
  // the running driver must be the one the index describes: same id, version, bindings, models and capability flags (bar those its runtime adds)
  if (canonical(comparableMeta(meta, expected)) !== canonical(expected)) {
    throw new McsError('E_DRIVER_META', `${spec}: the running driver's meta (id ${meta.id}, version ${meta.version}) is not what the index records this version declares (id ${expected.id}, version ${expected.version})`, {
      details: { spec, expected, found: meta },
    });
  }
}
