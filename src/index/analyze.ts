/**
 * How text is cut into words, the same way for what is indexed and what is
 * searched: FTS5's unicode61 tokenizer splits at anything that is not a
 * letter or digit and lowercases; on top of that a single letter hyphenated
 * to a word is also that word joined (e-mail, email), and compounds are also
 * their parts: camelCase and PascalCase words (OpenAPI, sendEmail) and two
 * field words glued together (mailsend, filesystem; see COMPOUND_PARTS).
 */
import { COMPOUND_PARTS } from './synonyms.js';

const WORD = /[\p{L}\p{N}]+/gu;
/** A single letter, a hyphen, a word: e-mail, e-book. */
const LETTER_HYPHEN_WORD = /(?<![\p{L}\p{N}])(\p{L})-(\p{L}{2,})(?![\p{L}\p{N}])/gu;
/** Boundaries inside camelCase and PascalCase: lower to upper (sendEmail), and the end of a capital run (OpenAPIKey). */
const CASE_BOUNDARY = /(?<=\p{Ll})(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u;

/** Words at most this long are tried as glued compounds (longer ones are rarely two field words). */
const MAX_COMPOUND = 24;

/** The two field words a lowercase word is glued from, or none. */
function gluedParts(word: string): string[] {
  if (word.length < 6 || word.length > MAX_COMPOUND) return [];
  for (let cut = 3; cut <= word.length - 3; cut++) {
    const head = word.slice(0, cut);
    const tail = word.slice(cut);
    if (COMPOUND_PARTS.has(head) && COMPOUND_PARTS.has(tail)) return [head, tail];
  }
  return [];
}

/** The parts of one word as typed (case kept), lowercased; [] when it is not a compound. */
export function compoundParts(word: string): string[] {
  const byCase = word.split(CASE_BOUNDARY).filter((p) => p !== '');
  if (byCase.length > 1) return byCase.map((p) => p.toLowerCase());
  return gluedParts(word.toLowerCase());
}

/** Text with hyphenated single letters joined (e-mail becomes email). */
export function joinLetterHyphens(text: string): string {
  return text.replace(LETTER_HYPHEN_WORD, '$1$2');
}

/**
 * Text as the index stores it: the original, with each compound word
 * followed by its parts and each hyphenated single letter by the joined
 * word, so that both spellings, and phrases over the parts, match.
 */
export function indexText(text: string): string {
  const joined = text.replace(LETTER_HYPHEN_WORD, (whole, letter: string, word: string) => `${whole} ${letter}${word}`);
  return joined.replace(WORD, (word) => {
    const parts = compoundParts(word);
    return parts.length > 1 ? `${word} ${parts.join(' ')}` : word;
  });
}

/** The distinct lowercase words of indexed text made of letters only (what a typo can be corrected to). */
export function vocabularyWords(text: string, into: Set<string>): void {
  for (const word of text.match(WORD) ?? []) {
    if (word.length >= 2 && word.length <= 32 && /^\p{L}+$/u.test(word)) into.add(word.toLowerCase());
  }
}
