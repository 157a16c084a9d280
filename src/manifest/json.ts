import { McsError } from '../errors.js';

export const DEFAULT_MAX_JSON_BYTES = 1024 * 1024;
export const DEFAULT_MAX_JSON_DEPTH = 32;

export interface ParseJsonOptions {
  /** Where the text came from, for messages (a file path or URL). */
  source?: string;
  /** Largest accepted input in bytes (UTF-8). Default DEFAULT_MAX_JSON_BYTES. */
  maxBytes?: number;
  /** Deepest accepted nesting of objects and arrays. Default DEFAULT_MAX_JSON_DEPTH. */
  maxDepth?: number;
}

/**
 * Parses untrusted JSON: the size is capped before any parsing, nesting is
 * capped before JSON.parse builds anything, and an object that repeats a key
 * is rejected (JSON.parse would silently keep the last value, so two readers
 * of one file could disagree about what it says).
 */
export function parseJsonStrict(input: string | Uint8Array, options: ParseJsonOptions = {}): unknown {
  const source = options.source ?? '<input>';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_JSON_BYTES;
  const byteLength = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (byteLength > maxBytes) {
    throw new McsError('E_JSON_TOO_LARGE', `${source}: ${byteLength} bytes exceeds the limit of ${maxBytes} bytes`, {
      details: { source, limit: maxBytes, found: byteLength },
    });
  }
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  const duplicate = scanStructure(text, source, options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new McsError('E_JSON_SYNTAX', `${source}: invalid JSON: ${reason}`, { cause, details: { source } });
  }
  if (duplicate) {
    throw new McsError('E_JSON_DUPLICATE_KEY', `${source}: key "${duplicate.key}" appears twice in the object at ${duplicate.pointer || '/'}`, {
      details: { source, key: duplicate.key, pointer: duplicate.pointer },
    });
  }
  return value;
}

interface Frame {
  /** Keys seen so far; null for an array. */
  keys: Set<string> | null;
  /** JSON pointer segment of this container in its parent. */
  segment: string;
  /** For arrays, the index of the next element. */
  index: number;
  /** The key whose value is being read (objects only). */
  pendingKey: string | null;
}

/**
 * One pass over the text without building values: enforces the depth cap and
 * reports the first repeated key. Malformed text is left to JSON.parse, so the
 * scan only has to be right about well-formed JSON and must never loop on bad.
 */
function scanStructure(text: string, source: string, maxDepth: number): { key: string; pointer: string } | null {
  const stack: Frame[] = [];
  let expectKey = false;
  let firstDuplicate: { key: string; pointer: string } | null = null;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      while (j < length) {
        const d = text.charCodeAt(j);
        if (d === 0x5c /* \ */) {
          escaped = true;
          j += 2;
          continue;
        }
        if (d === 0x22) break;
        j++;
      }
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const raw = text.slice(i + 1, j);
        const key = escaped ? decodeJsonString(raw) : raw;
        if (top.keys.has(key) && firstDuplicate === null) {
          firstDuplicate = { key, pointer: pointerOf(stack) };
        }
        top.keys.add(key);
        top.pendingKey = key;
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) {
        throw new McsError('E_JSON_TOO_DEEP', `${source}: nesting deeper than ${maxDepth} levels at ${pointerOf(stack) || '/'}`, {
          details: { source, limit: maxDepth, pointer: pointerOf(stack) },
        });
      }
      const parent = stack[stack.length - 1];
      const segment = parent ? (parent.keys ? (parent.pendingKey ?? '') : String(parent.index)) : '';
      stack.push({ keys: c === 0x7b ? new Set() : null, segment, index: 0, pendingKey: null });
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top) {
        if (top.keys) expectKey = true;
        else top.index++;
      }
    }
  }
  return firstDuplicate;
}

function decodeJsonString(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

function pointerOf(stack: Frame[]): string {
  let pointer = '';
  for (let k = 1; k < stack.length; k++) {
    pointer += '/' + stack[k]!.segment.replace(/~/g, '~0').replace(/\//g, '~1');
  }
  return pointer;
}
