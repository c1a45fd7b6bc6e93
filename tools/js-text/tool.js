// Text tools for Corral, written in JavaScript: slugify, word_stats,
// json_query and lorem. World `corral:mcp/tool@0.2.0`
// (guest-sdk/wit/corral.wit): exports `tools`, imports `host`. Plain
// JavaScript, no dependencies, built on jco's QuickJS backend.
//
// How the bindings map (jco 1.35.0, componentize-qjs):
//   - the exported interface `tools` is the exported object of that name,
//     its functions in camelCase (`listTools`, `callTool`);
//   - record fields are camelCase (`inputSchema`, `isError`, `readOnly`);
//   - option<T> is `undefined` for none; variants are
//     `{ tag: 'kebab-name', val }`; enums are strings (`'debug'`);
//   - result<T, E>: return T; throw a value that is not an `Error` (here a
//     `call-error` variant) for E. An `Error` that escapes traps the call.
import { log, progress } from 'corral:mcp/host@0.2.0';

const PURE = { readOnly: true, destructive: false, idempotent: true, openWorld: false };

const text = (t) => ({ tag: 'text', val: t });
const invalid = (message) => ({ tag: 'invalid-arguments', val: message });

// A result the model should see as a failure (MCP `isError`): its input
// was well formed but could not be used, as a document that is not JSON.
const toolError = (message) => ({ content: [text(message)], isError: true });

// A result with structured output: the JSON object itself, and its text
// as content for clients that read only content.
const structured = (value, summary) => ({
  content: [text(summary ?? JSON.stringify(value))],
  structured: JSON.stringify(value),
  isError: false,
});

// Argument checks. The host validates arguments against the input schema
// before a call; these keep the tool correct when run some other way and
// name the argument that is wrong.
function string(args, key, fallback) {
  const v = args[key] ?? fallback;
  if (typeof v !== 'string') throw invalid(`\`${key}\` must be a string`);
  return v;
}

function integer(args, key, fallback, min, max) {
  const v = args[key] ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw invalid(`\`${key}\` must be an integer from ${min} to ${max}`);
  }
  return v;
}

// ---- slugify -------------------------------------------------------------

function slugify(args) {
  const input = string(args, 'text');
  const separator = string(args, 'separator', '-');
  const maxLength = integer(args, 'max_length', 80, 1, 1000);
  if (!/^[-_.~]?$/.test(separator)) throw invalid('`separator` must be one of "-", "_", ".", "~" or ""');
  let slug = input
    .normalize('NFKD') // "é" -> "e" + combining accent ...
    .replace(/\p{M}/gu, '') // ... and the accent goes
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w !== '')
    .join(separator);
  if (slug.length > maxLength) {
    // Cut at a separator when there is one, so no word is cut in half.
    const cut = slug.slice(0, maxLength);
    const at = separator ? cut.lastIndexOf(separator) : -1;
    slug = at > 0 ? cut.slice(0, at) : cut;
  }
  return structured({ slug }, slug);
}

// ---- word_stats ------------------------------------------------------------

// Fuel is the cost to watch: QuickJS has no JIT, and each regex pass over
// the text costs ~300-1,000 fuel per character (a 60 KB text: a /\r?\n/
// split 1.1e8, split('\n') 2e6). So: one pass per measure, string methods
// over regexes where they do, and no `[...text]` (the iterator protocol,
// dearer still).

// A word: letters and digits, with inner apostrophes ("don't").
const WORD = /[\p{L}\p{N}]+(?:['\u2019][\p{L}\p{N}]+)*/gu;
const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

// Code points (what a reader calls characters), not UTF-16 units.
const codePoints = (s) => s.length - (s.match(SURROGATE_PAIR) || []).length;

function wordStats(args) {
  const input = string(args, 'text');
  const top = integer(args, 'top', 5, 0, 100);
  const characters = codePoints(input);
  const astral = characters !== input.length; // any surrogate pairs at all?
  const words = input.toLowerCase().match(WORD) || [];
  const counts = new Map();
  let letters = 0;
  for (const w of words) {
    counts.set(w, (counts.get(w) || 0) + 1);
    letters += astral ? codePoints(w) : w.length;
  }
  // Stable sort: ties keep the order words first appeared in.
  const topWords = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([word, count]) => ({ word, count }));
  // Sentences: runs of . ! ? before a space or the end, plus a last one
  // without a full stop if words follow the last terminator.
  const end = /[.!?]+(?=\s|$)/g;
  let sentences = 0;
  let tail = 0;
  while (end.exec(input) !== null) {
    sentences++;
    tail = end.lastIndex;
  }
  if (/[\p{L}\p{N}]/u.test(input.slice(tail))) sentences++;
  // Lines end at "\n" (so "\r\n" too); a final newline ends the last line.
  const lines = input === '' ? 0 : input.split('\n').length - (input.endsWith('\n') ? 1 : 0);
  const stats = {
    characters,
    words: words.length,
    unique_words: counts.size,
    lines,
    sentences,
    average_word_length: words.length ? Math.round((letters / words.length) * 100) / 100 : 0,
    top_words: topWords,
  };
  log('debug', `word_stats: ${stats.words} words, ${stats.unique_words} distinct`);
  return structured(
    stats,
    `${characters} characters, ${stats.words} words (${stats.unique_words} distinct), ` +
      `${lines} lines, ${sentences} sentences`,
  );
}

// ---- json_query ------------------------------------------------------------

const kind = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

// A path that does not lead anywhere: reported as an `isError` result.
class PathError extends Error {}

// Follows `steps` from `value`. `*` maps the rest of the path over an
// array's items; a number indexes an array (negative from the end).
function walk(value, steps) {
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    const where = steps.slice(0, i).join('.') || '(root)';
    if (step === '*') {
      if (!Array.isArray(value)) throw new PathError(`\`*\` at ${where} needs an array, found ${kind(value)}`);
      const rest = steps.slice(i + 1);
      return value.map((v) => walk(v, rest));
    }
    if (Array.isArray(value)) {
      const n = /^-?\d+$/.test(step) ? Number(step) : NaN;
      const index = n < 0 ? value.length + n : n;
      if (!(index >= 0 && index < value.length)) {
        throw new PathError(`no index ${step} at ${where}, an array of ${value.length}`);
      }
      value = value[index];
    } else if (value !== null && typeof value === 'object') {
      if (!Object.hasOwn(value, step)) throw new PathError(`no key "${step}" at ${where}`);
      value = value[step];
    } else {
      throw new PathError(`cannot step into ${kind(value)} at ${where} with "${step}"`);
    }
  }
  return value;
}

function jsonQuery(args) {
  const document = string(args, 'document');
  const path = string(args, 'path', '');
  let value;
  try {
    value = JSON.parse(document);
  } catch (e) {
    return toolError(`document is not JSON: ${e.message}`);
  }
  try {
    value = walk(value, path.split('.').filter((s) => s !== ''));
  } catch (e) {
    if (!(e instanceof PathError)) throw e;
    return toolError(`path "${path}": ${e.message}`);
  }
  return structured({ value, type: kind(value) }, JSON.stringify(value));
}

// ---- lorem -------------------------------------------------------------------

const LATIN = (
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor ' +
  'incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud ' +
  'exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure ' +
  'in reprehenderit voluptate velit esse cillum fugiat nulla pariatur excepteur sint ' +
  'occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est laborum'
).split(' ');

// mulberry32: a small seeded generator, so that a seed gives the same text
// on every run (Math.random cannot be seeded).
function generator(seed) {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n);
  };
}

// The host's fuel, time and memory limits bound a call; this cap only
// turns away a count no one means.
const MAX_WORDS = 100_000_000;

// Time and memory grow with `words`: with tight limits this is the tool
// that runs out of fuel or memory.
function lorem(args) {
  const total = integer(args, 'words', 50, 1, MAX_WORDS);
  const seed = integer(args, 'seed', 1, 0, 2 ** 32 - 1);
  const pick = generator(seed);
  const paragraphs = [];
  let sentences = [];
  let sentence = [];
  let sentenceLength = 4 + pick(9); // 4 to 12 words
  const step = Math.max(100_000, Math.ceil(total / 10));
  for (let n = 1; n <= total; n++) {
    sentence.push(LATIN[pick(LATIN.length)]);
    if (sentence.length === sentenceLength || n === total) {
      const s = sentence.join(' ');
      sentences.push(s[0].toUpperCase() + s.slice(1) + '.');
      sentence = [];
      sentenceLength = 4 + pick(9);
      if (sentences.length === 5 || n === total) {
        paragraphs.push(sentences.join(' '));
        sentences = [];
      }
    }
    // Reported only when the client asked for progress.
    if (n % step === 0) progress(n, total, `${n} of ${total} words`);
  }
  return { content: [text(paragraphs.join('\n\n'))], isError: false };
}

// ---- the tools interface -------------------------------------------------------

const TOOLS = {
  slugify: {
    def: {
      name: 'slugify',
      title: 'Slugify',
      description: 'Turn text into a URL slug: lower case, accents dropped, words joined by a separator.',
      inputSchema: {
        type: 'object',
        properties: {
          text: { type: 'string', description: 'The text, e.g. a title.' },
          separator: { type: 'string', enum: ['-', '_', '.', '~', ''], default: '-' },
          max_length: {
            type: 'integer', minimum: 1, maximum: 1000, default: 80,
            description: 'Longest slug; a longer one is cut at a separator.',
          },
        },
        required: ['text'],
        additionalProperties: false,
      },
      outputSchema: {
        type: 'object',
        properties: { slug: { type: 'string' } },
        required: ['slug'],
      },
    },
    run: slugify,
  },
  word_stats: {
    def: {
      name: 'word_stats',
      title: 'Word statistics',
      description: 'Count the characters, words, lines and sentences of a text and list its most frequent words.',
      inputSchema: {
        type: 'object',
        properties: {
          text: { type: 'string', description: 'The text to measure.' },
          top: {
            type: 'integer', minimum: 0, maximum: 100, default: 5,
            description: 'How many of the most frequent words to list.',
          },
        },
        required: ['text'],
        additionalProperties: false,
      },
      outputSchema: {
        type: 'object',
        properties: {
          characters: { type: 'integer', description: 'Unicode code points.' },
          words: { type: 'integer' },
          unique_words: { type: 'integer', description: 'Distinct words, ignoring case.' },
          lines: { type: 'integer' },
          sentences: { type: 'integer' },
          average_word_length: { type: 'number' },
          top_words: {
            type: 'array',
            items: {
              type: 'object',
              properties: { word: { type: 'string' }, count: { type: 'integer' } },
              required: ['word', 'count'],
            },
          },
        },
        required: ['characters', 'words', 'unique_words', 'lines', 'sentences',
          'average_word_length', 'top_words'],
      },
    },
    run: wordStats,
  },
  json_query: {
    def: {
      name: 'json_query',
      title: 'JSON query',
      description: 'Pick a value out of a JSON document by a dotted path such as `items.0.name` ' +
        '(`-1` is the last item, `*` maps over an array). A document that is not JSON, or a ' +
        'path that leads nowhere, is an error result naming the step.',
      inputSchema: {
        type: 'object',
        properties: {
          document: { type: 'string', description: 'A JSON document, as text.' },
          path: { type: 'string', default: '', description: 'Dotted path; empty for the whole document.' },
        },
        required: ['document'],
        additionalProperties: false,
      },
      outputSchema: {
        type: 'object',
        properties: {
          value: { description: 'What the path leads to.' },
          type: { type: 'string', enum: ['null', 'boolean', 'number', 'string', 'array', 'object'] },
        },
        required: ['value', 'type'],
      },
    },
    run: jsonQuery,
  },
  lorem: {
    def: {
      name: 'lorem',
      title: 'Lorem ipsum',
      description: 'Generate placeholder text: pseudo-Latin sentences of 4 to 12 words, five to a ' +
        'paragraph. The same seed gives the same text.',
      inputSchema: {
        type: 'object',
        properties: {
          words: { type: 'integer', minimum: 1, maximum: MAX_WORDS, default: 50 },
          seed: { type: 'integer', minimum: 0, maximum: 2 ** 32 - 1, default: 1 },
        },
        additionalProperties: false,
      },
    },
    run: lorem,
  },
};

// The definitions as the WIT wants them: schemas as JSON text, the same
// annotations for every tool (all four only compute).
const DEFS = Object.values(TOOLS).map(({ def }) => ({
  ...def,
  inputSchema: JSON.stringify(def.inputSchema),
  outputSchema: def.outputSchema && JSON.stringify(def.outputSchema),
  annotations: PURE,
}));

export const tools = {
  listTools() {
    return DEFS;
  },

  callTool(name, argumentsJson) {
    if (!Object.hasOwn(TOOLS, name)) throw { tag: 'unknown-tool', val: name };
    let args;
    try {
      args = JSON.parse(argumentsJson);
    } catch (e) {
      throw invalid(`arguments are not JSON: ${e.message}`);
    }
    if (args === null || typeof args !== 'object' || Array.isArray(args)) {
      throw invalid('arguments must be a JSON object');
    }
    try {
      return TOOLS[name].run(args);
    } catch (e) {
      if (e && typeof e === 'object' && 'tag' in e) throw e; // already a call-error
      // QuickJS reports a refused allocation as `InternalError: out of
      // memory`. Let it escape: the call traps and Corral names the limit
      // (memory_limit) instead of the tool reporting a failure.
      if (e instanceof InternalError) throw e;
      // A bug becomes `failed` with its message, not a bare trap.
      throw { tag: 'failed', val: `${e?.name ?? 'Error'}: ${e?.message ?? e}` };
    }
  },
};
