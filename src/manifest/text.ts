/**
 * Invisible text: characters that show nothing, or change how the text around
 * them reads, yet reach a terminal as they are and a model's prompt as they
 * are (tool names and descriptions are prompt text). The class is defined by
 * Unicode properties, not by examples: controls (Cc), format characters (Cf:
 * bidirectional controls, zero-width characters, U+FEFF, the tag characters
 * U+E0000-E007F), private use (Co), unassigned code points and
 * noncharacters (Cn), lone surrogates (Cs), line and paragraph separators
 * (Zl, Zp), and every default-ignorable code point (variation selectors,
 * Hangul fillers, ...). The one exception is U+FE0F right after a pictograph,
 * which asks for the emoji form of a visible character.
 */
import { McsError } from '../errors.js';

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/gu;
const PICTOGRAPH_BEFORE = /\p{Extended_Pictographic}$/u;

/** Decides, for an invisible character at `offset` of `text`, that it stays as it is. */
export type Keep = (c: string, offset: number, text: string) => boolean;

function kept(c: string, offset: number, text: string, keep: Keep | undefined): boolean {
  return (keep?.(c, offset, text) ?? false) || (c === '\uFE0F' && PICTOGRAPH_BEFORE.test(text.slice(Math.max(0, offset - 2), offset)));
}

/** Replaces each invisible character of `text` (except those `keep` accepts) by what `escape` makes of its code point. */
export function replaceInvisible(text: string, escape: (codePoint: number) => string, keep?: Keep): string {
  return text.replace(INVISIBLE, (c: string, offset: number) => (kept(c, offset, text, keep) ? c : escape(c.codePointAt(0)!)));
}

/** The first invisible code point of `text` that `keep` does not accept, if any. */
export function firstInvisible(text: string, keep?: Keep): number | undefined {
  for (const match of text.matchAll(INVISIBLE)) {
    if (!kept(match[0], match.index, text, keep)) return match[0].codePointAt(0)!;
  }
  return undefined;
}

const KINDS: ReadonlyArray<[RegExp, string]> = [
  [/^[\u{E0000}-\u{E007F}]$/u, 'tag character'],
  [/^\p{Cc}$/u, 'control character'],
  [/^[\p{Zl}\p{Zp}]$/u, 'line or paragraph separator'],
  [/^\p{Cf}$/u, 'format character'],
  [/^\p{Co}$/u, 'private-use character'],
  [/^\p{Cs}$/u, 'lone surrogate'],
  [/^\p{Cn}$/u, 'unassigned code point'],
];

/** "U+E0049 (tag character)": how a message names an invisible character. */
export function describeCodePoint(codePoint: number): string {
  const c = String.fromCodePoint(codePoint);
  const kind = KINDS.find(([pattern]) => pattern.test(c))?.[1] ?? 'default-ignorable character';
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} (${kind})`;
}

/** Fields written for a reader (a description, a reason, a note): invisible characters there are flagged, not refused; line breaks and tabs are text. */
const PROSE_FIELDS = new Set(['description', 'title', 'reason', 'text']);
const LAYOUT = (c: string): boolean => c === '\n' || c === '\t';

export interface InvisibleText {
  /** JSON pointer to the string (or the object key) holding it. */
  pointer: string;
  codePoint: number;
  /** True in prose (flagged), false in a name, id or any other field (refused). */
  prose: boolean;
}

const escapePointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Every string and object key of a JSON value that holds invisible text, with where and which (the first such character of each). */
export function findInvisibleText(value: unknown, pointer = '', key?: string): InvisibleText[] {
  if (typeof value === 'string') {
    const prose = key !== undefined && PROSE_FIELDS.has(key);
    const codePoint = firstInvisible(value, prose ? LAYOUT : undefined);
    return codePoint === undefined ? [] : [{ pointer: pointer || '/', codePoint, prose }];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => findInvisibleText(item, `${pointer}/${i}`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([name, item]) => {
    const at = `${pointer}/${escapePointer(name)}`;
    const codePoint = firstInvisible(name);
    return [...(codePoint === undefined ? [] : [{ pointer: at, codePoint, prose: false }]), ...findInvisibleText(item, at, name)];
  });
}

/** Refuses invisible text outside prose: names, ids, tool names and every other field a program matches on must read as what they are. */
export function assertVisibleNames(value: unknown, source: string, code: 'E_TEXT_INVISIBLE' | 'E_DRIVER_META' = 'E_TEXT_INVISIBLE'): void {
  const refused = findInvisibleText(value).find((found) => !found.prose);
  if (!refused) return;
  throw new McsError(code, `${source}: ${refused.pointer}: holds ${describeCodePoint(refused.codePoint)}, which does not show; names, ids and other fields that are not prose must be visible text`, {
    details: { source, pointer: refused.pointer, codePoint: refused.codePoint },
  });
}

/** Invisible text in prose, as warnings naming the field and the character: shown escaped, but it reaches a model's prompt as it is. */
export function invisibleProseWarnings(value: unknown, source: string): Array<{ code: 'E_TEXT_INVISIBLE'; message: string; source: string; pointer: string }> {
  return findInvisibleText(value)
    .filter((found) => found.prose)
    .map((found) => ({
      code: 'E_TEXT_INVISIBLE' as const,
      message: `${source}: ${found.pointer}: holds ${describeCodePoint(found.codePoint)}, which does not show but reaches a model's prompt as it is; remove it unless it is meant`,
      source,
      pointer: found.pointer,
    }));
}
