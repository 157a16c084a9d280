import { describe, expect, it } from 'vitest';
import { parseJsonStrict } from '../../src/manifest/json.js';

describe('parseJsonStrict', () => {
  it('parses well-formed JSON, including strings that look like structure', () => {
    expect(parseJsonStrict('{"a": "{[\\"}]", "b": [1, {"c": null}]}')).toEqual({ a: '{["}]', b: [1, { c: null }] });
  });

  it('refuses input over the byte cap before parsing it', () => {
    const big = JSON.stringify({ text: 'x'.repeat(2000) });
    expect(() => parseJsonStrict(big, { maxBytes: 1000, source: 'big.json' })).toThrowWithCode('E_JSON_TOO_LARGE');
  });

  it('counts bytes, not characters, against the cap', () => {
    const text = JSON.stringify({ t: 'é'.repeat(600) }); // 600 characters, 1200 bytes
    expect(() => parseJsonStrict(text, { maxBytes: 1000 })).toThrowWithCode('E_JSON_TOO_LARGE');
  });

  it('refuses nesting deeper than the cap with the pointer where it happened', () => {
    const deep = '{"a":' + '['.repeat(40) + ']'.repeat(40) + '}';
    let error: unknown;
    try {
      parseJsonStrict(deep, { maxDepth: 10, source: 'deep.json' });
    } catch (e) {
      error = e;
    }
    expect(error).toThrowWithCode('E_JSON_TOO_DEEP');
    expect((error as Error).message).toContain('deep.json');
  });

  it('survives a pathological nesting of a million brackets without a stack overflow', () => {
    expect(() => parseJsonStrict('['.repeat(1_000_000), { maxBytes: 2_000_000 })).toThrowWithCode('E_JSON_TOO_DEEP');
  });

  it('refuses a repeated key and names the object that holds it', () => {
    let error: any;
    try {
      parseJsonStrict('{"versions": {"1.0.0": {"size": 1}, "1.0.0": {"size": 2}}}', { source: 'dup.json' });
    } catch (e) {
      error = e;
    }
    expect(error).toThrowWithCode('E_JSON_DUPLICATE_KEY');
    expect(error.details).toMatchObject({ key: '1.0.0', pointer: '/versions' });
  });

  it('sees a repeated key spelled with an escape', () => {
    expect(() => parseJsonStrict('{"name": "a", "n\\u0061me": "b"}')).toThrowWithCode('E_JSON_DUPLICATE_KEY');
  });

  it('allows the same key in different objects and equal values in arrays', () => {
    expect(parseJsonStrict('[{"a": 1}, {"a": 2}, "a", "a"]')).toEqual([{ a: 1 }, { a: 2 }, 'a', 'a']);
  });

  it('reports malformed JSON as a syntax error with the source', () => {
    let error: any;
    try {
      parseJsonStrict('{"a": 1,,}', { source: 'bad.json' });
    } catch (e) {
      error = e;
    }
    expect(error).toThrowWithCode('E_JSON_SYNTAX');
    expect(error.message).toMatch(/^bad\.json: invalid JSON/);
  });

  it('takes bytes as well as text', () => {
    expect(parseJsonStrict(Buffer.from('{"ok": true}'))).toEqual({ ok: true });
  });
});
