import { describe, expect, it } from 'vitest';
import { assertMcsDriver, canonical, driverKind } from '../src/contract/index.js';

const meta = { id: 'a7b2f4d9-3e8c-4a1f-9b6d-5e2c8f1a4d7e', name: 'CSV Driver', version: '1.0.0', bindings: [{ capability: 'csv', adapter: 'localfs', spec_format: 'Custom' }], target_llms: ['*'], capabilities: ['healthcheck'] };

function driver(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    meta,
    get_function_description: () => '[]',
    get_driver_system_message: () => 'You can read CSV files.',
    process_llm_response: () => ({ call_executed: false, call_failed: false }),
    healthcheck: () => ({ status: 'OK' }),
    ...overrides,
  };
}

describe('assertMcsDriver', () => {
  it('accepts a hybrid driver and a tool driver, and tells which', () => {
    const hybrid = driver();
    assertMcsDriver(hybrid, 'hybrid');
    expect(driverKind(hybrid)).toBe('driver');
    const tools = { meta: { ...meta, target_llms: null, capabilities: [] }, list_tools: () => [], execute_tool: () => null };
    assertMcsDriver(tools, 'tools');
    expect(driverKind(tools)).toBe('tool-driver');
  });

  it('refuses values that are not drivers', () => {
    expect(() => assertMcsDriver(null, 'x')).toThrowWithCode('E_DRIVER_SHAPE');
    expect(() => assertMcsDriver(() => 1, 'x')).toThrowWithCode('E_DRIVER_SHAPE');
    expect(() => assertMcsDriver(driver({ process_llm_response: 'not a function' }), 'x')).toThrowWithCode('E_DRIVER_SHAPE');
  });

  it('refuses a meta that breaks the schema', () => {
    expect(() => assertMcsDriver(driver({ meta: { ...meta, bindings: [{ capability: 'csv' }] } }), 'x')).toThrowWithCode('E_DRIVER_META');
    expect(() => assertMcsDriver(driver({ meta: undefined }), 'x')).toThrowWithCode('E_DRIVER_META');
  });

  it('refuses a capability flag without the method behind it', () => {
    expect(() => assertMcsDriver(driver({ healthcheck: undefined }), 'x')).toThrowWithCode('E_DRIVER_CAPABILITY');
    expect(() => assertMcsDriver(driver({ meta: { ...meta, capabilities: ['tcs'] }, might_be_tool_call: () => false }), 'x')).toThrowWithCode('E_DRIVER_CAPABILITY');
  });

  it('needs no method for descriptive flags or unknown ones', () => {
    expect(() => assertMcsDriver(driver({ meta: { ...meta, capabilities: ['standalone', 'orchestratable', 'streaming', 'future_flag'] } }), 'x')).not.toThrow();
  });
});

describe('canonical', () => {
  /** The definition: JSON.stringify of the value rebuilt with sorted keys (signatures and log lines made before depend on it byte for byte). */
  const reference = (value: unknown): string =>
    JSON.stringify(value, (_key, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
    );

  it('writes exactly what the definition writes, for any JSON value and the odd keys JavaScript orders itself', () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const keys = ['a', 'b', 'B', '10', '9', '0', '01', '1.0.0', 'é', '\u2028', '𝒳', '', 'z', '4294967295', '4294967294', '-1'];
    const pick = (): string => keys[Math.floor(random() * keys.length)]!;
    const value = (depth: number): unknown => {
      const r = random();
      if (depth > 4 || r < 0.3) {
        const p = random();
        return p < 0.2 ? null : p < 0.4 ? random() * 1e6 - 5e5 : p < 0.6 ? `${pick()}"\\\n` : p < 0.7 ? true : p < 0.8 ? undefined : p < 0.9 ? -0 : 1e21;
      }
      if (r < 0.55) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 6); i > 0; i--) object[pick()] = value(depth + 1);
      if (random() < 0.1) object.when = new Date(1e12);
      return object;
    };
    for (let i = 0; i < 5000; i++) {
      const v = value(0);
      expect(canonical(v)).toBe(reference(v));
    }
    expect(canonical({ b: 1, 10: 2, 9: 3, a: [undefined, () => 1] })).toBe('{"9":3,"10":2,"a":[null,null],"b":1}');
  });
});
