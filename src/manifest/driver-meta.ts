/**
 * DriverMeta as drivers present it, turned into the contract's form the
 * index stores and compares. The Python SDK renamed the contract's
 * `target_llms` to `supported_llms`; either is accepted on input, and only
 * the contract's name is kept. Pure.
 */
import { McsError } from '../errors.js';
import { canonical } from '../contract/index.js';
import type { DeclaredDriver, DriverMeta } from './types.js';

/** The SDK's name for the contract's target_llms. */
export const SDK_LLMS_FIELD = 'supported_llms';

/**
 * The meta with `supported_llms` renamed to `target_llms`; anything that is
 * not a plain object is returned as it is (the schema check that follows
 * refuses it). Both names with different values is E_DRIVER_META: the driver
 * says two things and the index will not pick one.
 */
export function contractMeta<T>(meta: T, source: string): T {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta) || !Object.hasOwn(meta, SDK_LLMS_FIELD)) return meta;
  const { [SDK_LLMS_FIELD]: supported, ...rest } = meta as Record<string, unknown>;
  if (Object.hasOwn(rest, 'target_llms') && canonical(rest.target_llms) !== canonical(supported)) {
    throw new McsError('E_DRIVER_META', `${source}: meta gives both target_llms ${canonical(rest.target_llms)} and supported_llms ${canonical(supported)}; give one (supported_llms is the SDK's name for target_llms)`, {
      details: { source, pointer: `/${SDK_LLMS_FIELD}` },
    });
  }
  return { ...rest, target_llms: supported } as T;
}

/** Declared drivers read from a package, each meta in the contract's form. */
export function contractDeclarations(drivers: DeclaredDriver[], source: string): DeclaredDriver[] {
  return drivers.map((driver) => (typeof driver === 'object' && driver !== null && 'meta' in driver ? { ...driver, meta: contractMeta(driver.meta, source) } : driver));
}

/**
 * Capability flags a runtime adds to a driver's meta that its static
 * declaration cannot show: the Python SDK's BaseDriver appends native_tools
 * to the meta of every class derived from it. A running driver may carry
 * them beyond its declaration (the contract check still requires the method
 * each flag promises); nothing else may differ.
 */
export const RUNTIME_ADDED_CAPABILITIES: readonly string[] = ['native_tools'];

/** The running meta as it compares with the declaration: runtime-added flags the declaration lacks are set aside. */
export function comparableMeta(running: DriverMeta, declared: DriverMeta): DriverMeta {
  const added = RUNTIME_ADDED_CAPABILITIES.filter((flag) => !declared.capabilities.includes(flag));
  if (added.length === 0 || !Array.isArray(running.capabilities)) return running;
  return { ...running, capabilities: running.capabilities.filter((flag) => !added.includes(flag)) };
}
