// A small coverage-guided fuzzer. Coverage comes from V8 itself: precise block coverage through
// `node:inspector`, taken after every input and restricted to the target's own modules. An input
// that reaches a block (or a hit-count bucket of a block) no earlier input reached joins the
// corpus and is mutated further. Jazzer.js was the first choice; its native addon does not load
// on this machine's glibc (docs/RELIABILITY.md, section 6).
//
// A target runs one input and throws when an oracle fails; it catches its parser's documented
// errors itself. The engine adds the time bound (a slow input fails; a hang is caught by the
// watchdog in runner.ts) and saves each failing input with the command that replays it.
import { Session } from 'node:inspector';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Package root (this file runs as dist/test/fuzz/engine.js). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CORPUS_DIR = join(ROOT, 'test/fuzz/corpus');
export const CRASH_DIR = join(ROOT, 'test/fuzz/crashes');

export interface FuzzTarget {
  name: string;
  /** Fragments of script URLs whose coverage guides this target (e.g. `/dist/src/authz/`). */
  coverage: readonly string[];
  /** Tokens the mutator inserts: keywords, function names, delimiters of the input language. */
  dictionary: readonly string[];
  /** The input ends in JSON (after the first blank line, or all of it): mutate it as JSON too. */
  json?: boolean;
  maxLength?: number;
  /** Per-input time bound (default 2 s); targets doing real work (key generation, a whole Mimic) take more. */
  slowMs?: number;
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  /** Runs one input; throws on an oracle violation (anything but the documented errors). */
  run(input: string): Promise<void> | void;
}

/** An oracle violation other than an exception escaping the parser (a 5xx, a broken round trip). */
export class OracleFailure extends Error {
  override name = 'OracleFailure';
}

// ---------------------------------------------------------------------------------------------
// Coverage

/**
 * Block coverage of the target's scripts since the previous take. V8 drops a nested range whose
 * count equals its parent's, so every range ever reported is remembered per function and its
 * count recovered from the innermost range reported this time.
 */
export class CoverageProbe {
  private readonly session = new Session();
  private readonly known = new Map<string, Array<[number, number]>>();
  /** Blocks (ranges) executed at least once, and every range seen. */
  readonly covered = new Set<string>();
  readonly seen = new Set<string>();

  constructor(private readonly fragments: readonly string[]) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  private post(method: string, params?: object): any { // eslint-disable-line @typescript-eslint/no-explicit-any
    let result: unknown;
    let error: Error | null = null;
    // Same-thread inspector sessions answer synchronously.
    this.session.post(method, params, (err, res) => {
      error = err;
      result = res;
    });
    if (error) throw error;
    return result;
  }

  /** Features (block × hit-count bucket) reached since the last call. */
  take(): string[] {
    const out: string[] = [];
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: Array<{ url: string; functions: Array<{ ranges: Array<{ startOffset: number; endOffset: number; count: number }> }> }> };
    for (const script of result) {
      if (!this.fragments.some((f) => script.url.includes(f))) continue;
      const file = script.url.slice(script.url.lastIndexOf('/dist/') + 1);
      for (const fn of script.functions) {
        const ranges = fn.ranges;
        const fnKey = `${file}@${ranges[0]!.startOffset}`;
        let known = this.known.get(fnKey);
        if (!known) this.known.set(fnKey, (known = []));
        for (const r of ranges) {
          if (!known.some(([s, e]) => s === r.startOffset && e === r.endOffset)) {
            known.push([r.startOffset, r.endOffset]);
            this.seen.add(`${file}:${r.startOffset}-${r.endOffset}`);
          }
        }
        if (ranges[0]!.count === 0) continue;
        for (const [s, e] of known) {
          // Ranges come sorted by start, parents before children: the last container is innermost.
          let count = 0;
          for (const r of ranges) if (r.startOffset <= s && r.endOffset >= e) count = r.count;
          if (count === 0) continue;
          const block = `${file}:${s}-${e}`;
          this.covered.add(block);
          out.push(`${block}#${bucket(count)}`);
        }
      }
    }
    return out;
  }

  close(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }
}

/** libFuzzer's hit-count buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
function bucket(n: number): number {
  return n < 4 ? n : n < 8 ? 4 : n < 16 ? 5 : n < 32 ? 6 : n < 128 ? 7 : 8;
}

// ---------------------------------------------------------------------------------------------
// Mutation

/** A deterministic generator (xorshift32), so a run is reproducible from its seed. */
export class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.below(a.length)]!;
  }
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
}

const SPECIAL_CHARS = [
  '\0', '\n', '\r', '\t', ' ', '"', "'", '\\', '/', '%', '[', ']', '(', ')', '{', '}', ',', '.', ':', ';', '=', '&', '?', '#', '@', '$', '-', '+', '*', '<', '>', '|', '!', '~', '`',
  '\u00e9', '\u0130', '\u200b', '\ufeff', '\ud800', '\udc00', '\u{1f600}', '\u2028', '\x7f', '\x1b',
];
const INTERESTING_NUMBERS = ['0', '-1', '1', '-0', '255', '65536', '2147483647', '-2147483649', '4294967296', '9007199254740993', '1e308', '-1e309', '1.5', '0x10', 'NaN', '99999999999999999999999'];
const JSON_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 2 ** 31, 2 ** 53 + 2, 1e308, '', ' ', 'x'.repeat(300), '\u0000', [], {}, [null], { '': null }];

/** What the JSON-aware mutator works on: the part after the first blank line, or the whole input. */
function jsonPart(s: string): [string, string] {
  const i = s.indexOf('\n\n');
  return i < 0 ? ['', s] : [s.slice(0, i + 2), s.slice(i + 2)];
}

export class Mutator {
  constructor(
    private readonly rng: Rng,
    private readonly dictionary: readonly string[],
    private readonly json: boolean,
    private readonly maxLength: number,
  ) {}

  mutate(input: string, corpus: readonly string[]): string {
    let s = input;
    const rounds = 1 + this.rng.below(4);
    for (let i = 0; i < rounds; i++) s = this.once(s, corpus);
    return s.length > this.maxLength ? s.slice(0, this.maxLength) : s;
  }

  private once(s: string, corpus: readonly string[]): string {
    const r = this.rng;
    const at = r.below(s.length + 1);
    const other = corpus.length > 0 ? r.pick(corpus) : s;
    switch (r.below(this.json ? 12 : 10)) {
      case 0: // replace one character
        return s.length === 0 ? this.char() : s.slice(0, at) + this.char() + s.slice(at + 1);
      case 1: // insert one character
        return s.slice(0, at) + this.char() + s.slice(at);
      case 2: { // delete a span
        const n = 1 + r.below(Math.min(16, s.length + 1));
        return s.slice(0, at) + s.slice(at + n);
      }
      case 3: { // duplicate a span: a few times, or up to thousands (deep nesting, long runs)
        const n = 1 + r.below(Math.min(32, s.length - at + 1));
        const piece = s.slice(at, at + n);
        const times = r.chance(0.8) ? 1 + r.below(3) : 1 << (4 + r.below(10));
        return s.slice(0, at) + piece.repeat(Math.min(times, Math.ceil(this.maxLength / Math.max(piece.length, 1)))) + s.slice(at);
      }
      case 4:
      case 5: // insert a dictionary token
        return this.dictionary.length ? s.slice(0, at) + r.pick(this.dictionary) + s.slice(at) : s;
      case 6: { // overwrite a span with a dictionary token
        if (!this.dictionary.length) return s;
        const tok = r.pick(this.dictionary);
        return s.slice(0, at) + tok + s.slice(at + tok.length);
      }
      case 7: { // splice: this input's head, another's tail
        const cut = r.below(other.length + 1);
        return s.slice(0, at) + other.slice(cut);
      }
      case 8: { // insert a chunk of another input
        const from = r.below(other.length + 1);
        return s.slice(0, at) + other.slice(from, from + 1 + r.below(64)) + s.slice(at);
      }
      case 9: { // replace a number with an interesting one
        const nums = [...s.matchAll(/-?\d+(\.\d+)?/g)];
        if (nums.length === 0) return s.slice(0, at) + r.pick(INTERESTING_NUMBERS) + s.slice(at);
        const m = r.pick(nums);
        return s.slice(0, m.index) + r.pick(INTERESTING_NUMBERS) + s.slice(m.index! + m[0].length);
      }
      default:
        try {
          return this.mutateJson(s, corpus);
        } catch {
          return s; // a regression input nested too deeply for JSON.stringify or structuredClone
        }
    }
  }

  private char(): string {
    const r = this.rng;
    if (r.chance(0.5)) return r.pick(SPECIAL_CHARS);
    return String.fromCharCode(r.chance(0.9) ? 32 + r.below(95) : r.below(0x3000));
  }

  /** Parses the JSON part, changes one node (type, key, value, nesting), serialises it again. */
  private mutateJson(s: string, corpus: readonly string[]): string {
    const [head, body] = jsonPart(s);
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      return s;
    }
    const r = this.rng;
    const nodes: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
    const walk = (v: unknown, depth: number) => {
      if (depth > 40 || v === null || typeof v !== 'object') return;
      if (Array.isArray(v)) v.forEach((x, i) => (nodes.push({ parent: v, key: i }), walk(x, depth + 1)));
      else for (const [k, x] of Object.entries(v)) nodes.push({ parent: v as Record<string, unknown>, key: k }), walk(x, depth + 1);
    };
    walk(doc, 0);
    if (nodes.length === 0) return head + JSON.stringify(r.pick(JSON_VALUES));
    const { parent, key } = r.pick(nodes);
    const get = () => (parent as Record<string | number, unknown>)[key];
    const set = (v: unknown) => ((parent as Record<string | number, unknown>)[key] = v);
    switch (r.below(7)) {
      case 0:
        set(structuredClone(r.pick(JSON_VALUES)));
        break;
      case 1:
        set(r.pick(this.dictionary.length ? this.dictionary : ['x']));
        break;
      case 2: // drop the member
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        break;
      case 3: // add a member named from the dictionary
        if (Array.isArray(parent)) parent.push(structuredClone(get()));
        else parent[r.pick(this.dictionary.length ? this.dictionary : ['x'])] = structuredClone(get());
        break;
      case 4: // wrap in an array or object
        set(r.chance(0.5) ? [get()] : { value: get() });
        break;
      case 5: { // a value from another input's JSON
        try {
          const theirs = JSON.parse(jsonPart(r.pick(corpus))[1]) as unknown;
          const pool: unknown[] = [];
          const collect = (v: unknown, d: number) => {
            pool.push(v);
            if (d < 20 && v && typeof v === 'object') for (const x of Object.values(v)) collect(x, d + 1);
          };
          collect(theirs, 0);
          set(structuredClone(r.pick(pool)));
        } catch {
          set(null);
        }
        break;
      }
      default: { // change a string or number a little
        const v = get();
        if (typeof v === 'string') set(this.once(v, corpus));
        else if (typeof v === 'number') set(Number(r.pick(INTERESTING_NUMBERS)));
        else set(String(v));
      }
    }
    return head + JSON.stringify(doc, null, r.chance(0.5) ? undefined : 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Corpus and crashes

export function corpusDir(target: string): string {
  return join(CORPUS_DIR, target);
}

export function loadCorpus(target: string): Array<{ name: string; input: string }> {
  const dir = corpusDir(target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, input: readFileSync(join(dir, name), 'utf8') }));
}

export function digest(input: string): string {
  return createHash('sha1').update(input).digest('hex').slice(0, 16);
}

export function replayCommand(target: string, file: string): string {
  return `node dist/bench/fuzz.bench.js --replay ${target} ${file}`;
}

// ---------------------------------------------------------------------------------------------
// The loop

export interface FuzzOptions {
  /** Stop after this many mutated inputs (the corpus replay is not counted)... */
  maxExecs?: number;
  /** ...or after this many milliseconds, whichever comes first. */
  maxMs?: number;
  seed?: number;
  /** An input slower than this fails (the runner's watchdog catches a real hang). */
  slowMs?: number;
  /** Long runs: minimise each input that reached new coverage and save it to the corpus. */
  saveCorpus?: boolean;
  /** Where failing inputs go (default test/fuzz/crashes/<target>/). */
  crashDir?: string;
  /** Stop at the first failure (the default); else keep going and count. */
  stopOnCrash?: boolean;
  /** Start from the hand-written `seed-*` entries only (to measure what fuzzing adds to them). */
  seedsOnly?: boolean;
  /** Called before each input with it: the runner's watchdog reports the input of a hang. */
  onInput?(input: string): void;
}

export interface Failure {
  input: string;
  error: string;
  file?: string;
  replay?: string;
}

export interface FuzzStats {
  target: string;
  /** Corpus entries replayed before fuzzing. */
  seeds: number;
  execs: number;
  ms: number;
  execsPerSecond: number;
  /** Blocks covered after replaying the corpus, and at the end. */
  seedBlocks: number;
  blocks: number;
  /** Every block range of the target's executed functions (covered or not). */
  blocksSeen: number;
  /** Corpus in memory at the end (seeds plus inputs that reached new coverage), and new files saved. */
  corpusSize: number;
  saved: number;
  failures: Failure[];
  /** Answers of 5xx among the failures (HTTP-level targets). */
  serverErrors: number;
}

async function runOne(target: FuzzTarget, input: string, slowMs: number): Promise<string | undefined> {
  const t0 = performance.now();
  try {
    await target.run(input);
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
  }
  const ms = performance.now() - t0;
  // Let timers and I/O callbacks the input left behind run now, so that an error thrown there
  // (caught by the runner as uncaught) is blamed on this input, not on one much later.
  await new Promise((resolve) => setImmediate(resolve));
  if (ms > slowMs) return `Slow: the input took ${Math.round(ms)} ms (bound ${slowMs} ms)`;
  return undefined;
}

export async function fuzz(target: FuzzTarget, opts: FuzzOptions = {}): Promise<FuzzStats> {
  const maxExecs = opts.maxExecs ?? Infinity;
  const maxMs = opts.maxMs ?? 10_000;
  const slowMs = opts.slowMs ?? target.slowMs ?? 2_000;
  const stopOnCrash = opts.stopOnCrash ?? true;
  const crashDir = opts.crashDir ?? join(CRASH_DIR, target.name);
  const rng = new Rng(opts.seed ?? Date.now() & 0xffffffff);
  const mutator = new Mutator(rng, target.dictionary, target.json ?? false, target.maxLength ?? 4096);
  const failures: Failure[] = [];
  const features = new Set<string>();
  const corpus: string[] = [];
  const known = new Set<string>();

  // Precise coverage starts before setup: V8 reports only function-level counts for code that
  // was compiled and run before it started (a setup that gets a token hid the token endpoint's blocks).
  const probe = new CoverageProbe(target.coverage);
  await target.setup?.();
  probe.take(); // forget setup's coverage counts

  const fail = (input: string, error: string) => {
    const f: Failure = { input, error };
    mkdirSync(crashDir, { recursive: true });
    f.file = join(crashDir, `crash-${digest(input)}`);
    writeFileSync(f.file, input);
    f.replay = replayCommand(target.name, f.file);
    failures.push(f);
  };
  const newFeatures = (fs: string[]) => fs.filter((f) => !features.has(f));
  const seenBlocks = new Set<string>();

  // Replay the committed corpus: every entry is a regression input.
  const seeds = loadCorpus(target.name).filter((e) => !opts.seedsOnly || e.name.startsWith('seed-'));
  for (const { input } of seeds) {
    opts.onInput?.(input);
    const error = await runOne(target, input, slowMs);
    if (error) fail(input, error);
    for (const f of probe.take()) {
      features.add(f);
      seenBlocks.add(blockOf(f));
    }
    corpus.push(input);
    known.add(input);
  }
  if (corpus.length === 0) corpus.push('');
  const seedBlocks = probe.covered.size;

  const start = performance.now();
  let execs = 0;
  let saved = 0;
  while (execs < maxExecs && performance.now() - start < maxMs && (failures.length === 0 || !stopOnCrash)) {
    // Favour recent finds (the frontier), as most coverage-guided fuzzers do.
    const base = rng.chance(0.3) ? corpus[corpus.length - 1 - rng.below(Math.min(16, corpus.length))]! : rng.pick(corpus);
    const input = mutator.mutate(base, corpus);
    execs++;
    if (known.has(input)) continue;
    opts.onInput?.(input);
    const blocksBefore = probe.covered.size;
    const error = await runOne(target, input, slowMs);
    const fresh = newFeatures(probe.take());
    if (error) {
      fail(input, error);
      continue;
    }
    if (fresh.length === 0) continue;
    for (const f of fresh) features.add(f);
    let keep = input;
    // The committed corpus takes only inputs that reached a new block (not merely a new hit
    // count), minimised: it stays small enough to replay in every test run.
    if (opts.saveCorpus && probe.covered.size > blocksBefore) {
      const newBlocks = [...new Set(fresh.map(blockOf))].filter((b) => !seenBlocks.has(b));
      keep = await minimise(target, input, newBlocks, probe, slowMs, opts.onInput);
      mkdirSync(corpusDir(target.name), { recursive: true });
      writeFileSync(join(corpusDir(target.name), `fuzz-${digest(keep)}`), keep);
      saved++;
    }
    for (const f of fresh) seenBlocks.add(blockOf(f));
    corpus.push(keep);
    known.add(keep);
  }
  const ms = performance.now() - start;
  probe.close();
  await target.teardown?.();
  return {
    target: target.name,
    seeds: seeds.length,
    execs,
    ms: Math.round(ms),
    execsPerSecond: Math.round((execs / Math.max(ms, 1)) * 1000),
    seedBlocks,
    blocks: probe.covered.size,
    blocksSeen: probe.seen.size,
    corpusSize: corpus.length,
    saved,
    failures,
    serverErrors: failures.filter((f) => /answered 5\d\d/.test(f.error)).length,
  };
}

const blockOf = (feature: string) => feature.slice(0, feature.lastIndexOf('#'));

/** Shortens an input by dropping chunks (halves, quarters, ... single characters) while it still reaches the `wanted` blocks. */
async function minimise(target: FuzzTarget, input: string, wanted: string[], probe: CoverageProbe, slowMs: number, onInput?: (input: string) => void): Promise<string> {
  let best = input;
  let budget = 48; // runs: a long run keeps fuzzing rather than polishing
  const stillReaches = async (candidate: string) => {
    if (--budget < 0) return false;
    onInput?.(candidate);
    const error = await runOne(target, candidate, slowMs);
    const got = new Set(probe.take().map(blockOf));
    return !error && wanted.every((b) => got.has(b));
  };
  for (let chunk = Math.max(1, best.length >> 1); chunk >= Math.max(1, best.length >> 6); chunk >>= 1) {
    for (let at = 0; at < best.length; ) {
      const candidate = best.slice(0, at) + best.slice(at + chunk);
      if (candidate.length > 0 && (await stillReaches(candidate))) best = candidate;
      else at += chunk;
    }
    if (budget < 0) break;
  }
  return best;
}
