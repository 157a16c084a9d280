import { describe, expect, it } from 'vitest';
import { assertMcsDriver, driverKind } from '../src/contract/index.js';

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
    expect(() => assertMcsDriver(driver({ meta: { ...meta, bindings: [] } }), 'x')).toThrowWithCode('E_DRIVER_META');
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
