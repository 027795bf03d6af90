/**
 * Running the real `lars` command in tests, as an operator would: one-shot
 * commands to completion, and services as child processes that are ready once
 * they log their "ready" line.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitFor, type WaitOptions } from './net.js';

export const REPO = new URL('../../', import.meta.url).pathname;

/**
 * Whether child processes run the build in dist/ (what `npm start` runs and
 * operators deploy) rather than the TypeScript sources through tsx. `npm test`
 * builds first and sets it (scripts/run-tests.mjs --compiled); a direct run of
 * the test script uses the sources, so it never tests a stale build.
 */
export const TEST_COMPILED = process.env.LARS_TEST_COMPILED === '1';

/** node's arguments to run a module of this repository, named by its path without extension (e.g. src/cli/main). */
export function nodeArgs(module: string, compiled = TEST_COMPILED): string[] {
  // tsx by its resolved URL: a run in another folder (cwd) would not find the bare name.
  return compiled ? [join(REPO, 'dist', `${module}.js`)] : ['--import', import.meta.resolve('tsx'), join(REPO, `${module}.ts`)];
}

/** node's arguments to run `lars`. */
export function larsArgs(args: string[], compiled = TEST_COMPILED): string[] {
  return [...nodeArgs('src/cli/main', compiled), ...args];
}

export interface StartOptions extends WaitOptions {
  /** Run dist/ (the build) whatever TEST_COMPILED says (benchmarks). */
  compiled?: boolean;
  /** An installed `lars` executable to run instead of this repository's (the package test). */
  bin?: string;
  /** Working directory; the repository by default. */
  cwd?: string;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `lars ARGS` to completion in `cwd` (the repository by default). LARS_STORE and LARS_DATA_DIR from the test's environment are not passed on unless given. */
export function lars(args: string[], env: NodeJS.ProcessEnv = {}, cwd = REPO): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      larsArgs(args),
      { cwd, env: { ...process.env, LARS_STORE: undefined, LARS_DATA_DIR: undefined, LARS_NOTIFY: undefined, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Exit 0, nothing on stderr, and stdout is one JSON document: returns it. */
export function jsonOutput(run: Run): any {
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  return JSON.parse(run.stdout);
}

/** Exit 1 with exactly one line on stderr, matching the pattern, and nothing on stdout. */
export function assertFailure(run: Run, pattern: RegExp): void {
  assert.equal(run.code, 1, `stdout: ${run.stdout} stderr: ${run.stderr}`);
  assert.equal(run.stdout, '');
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0]!, pattern);
}

/** Exit 2 with nothing on stdout; the first stderr line says what is wrong (main adds a --help hint after it). */
export function assertUsageError(run: Run, pattern: RegExp): void {
  assert.equal(run.code, 2, `stdout: ${run.stdout} stderr: ${run.stderr}`);
  assert.equal(run.stdout, '');
  assert.match(run.stderr.split('\n')[0]!, pattern);
}

export interface LarsProcess {
  readonly child: ChildProcess;
  /** Every stderr line so far. */
  readonly lines: string[];
  /** Everything written to stdout so far. */
  readonly stdout: () => string;
  /** Fields of the "ready" line, e.g. ready.addr = "127.0.0.1:40123". */
  readonly ready: Record<string, string>;
  /** Waits for a stderr line matching the pattern. */
  waitForLine(pattern: RegExp, options?: WaitOptions): Promise<string>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
}

function parseFields(line: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of line.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    fields[match[1]!] = match[2]!.startsWith('"') ? (JSON.parse(match[2]!) as string) : match[2]!;
  }
  return fields;
}

/** Starts `lars ARGS` and resolves once it logged "<ARGS[0]> ready"; rejects with its output if it exits first. */
export async function startLars(args: string[], env: NodeJS.ProcessEnv = {}, options: StartOptions = {}): Promise<LarsProcess> {
  const { compiled = TEST_COMPILED, bin, cwd = REPO, ...waitOptions } = options;
  const [program, argv] = bin === undefined ? [process.execPath, larsArgs(args, compiled)] : [bin, args];
  const child = spawn(program, argv, {
    cwd,
    env: { ...process.env, LARS_STORE: undefined, LARS_NOTIFY: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve(code);
    }),
  );
  const waitForLine = (pattern: RegExp, waitOptions?: WaitOptions) =>
    waitFor(
      () => {
        if (exited !== undefined) throw new Error(`lars ${args[0]} exited with ${exited}:\n${lines.join('\n')}${partial}`);
        return lines.find((line) => pattern.test(line));
      },
      { message: `lars ${args[0]} to log ${pattern}`, timeoutMs: 30_000, ...waitOptions },
    );
  const proc: LarsProcess = {
    child,
    lines,
    stdout: () => stdout,
    ready: {},
    waitForLine,
    stop: async () => {
      if (exited === undefined) child.kill('SIGTERM');
      return exit;
    },
    kill: async () => {
      if (exited === undefined) child.kill('SIGKILL');
      await exit;
    },
  };
  try {
    // The service's own line: its children (dispatcher, workers) log "ready" under other names.
    Object.assign(proc.ready, parseFields(await waitForLine(new RegExp(` info ${args[0]} ready `), waitOptions)));
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return proc;
}

/** What `lars up` prints, by name: "  console     http://127.0.0.1:PORT/" -> { console: "http://..." }. */
export function parseSummary(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^ {2}(\S+(?: \S+)?)\s{2,}(.*)$/.exec(line);
    if (match) fields[match[1]!] = match[2]!;
  }
  return fields;
}

/** "HOST:PORT" -> port. */
export function portOf(addr: string): number {
  return Number(addr.slice(addr.lastIndexOf(':') + 1));
}
