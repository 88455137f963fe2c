/**
 * JavaScript stack frames for the tracing hook: capturing a stack cheaply at allocation time and
 * turning it into tracemalloc's `(filename, lineno)` frames later.
 *
 * On V8 (Node, Chromium) `Error.captureStackTrace(holder, fn)` records the frames below `fn` and
 * formats them only when `holder.stack` is first read, so an allocation pays for the capture alone
 * (~1 µs on Node 20) and the text is built once per snapshot. Elsewhere `new Error().stack` is
 * read at once.
 *
 *   V8             "    at PyMem.malloc (file:///…/pymem.ts:120:14)"   "    at file:///…/x.ts:3:1"
 *   SpiderMonkey,  "malloc@http://…/pymem.js:120:14"
 *   JavaScriptCore
 */
import type { TracebackFrame } from "./debug-dump.ts";

interface V8ErrorConstructor {
  captureStackTrace?(holder: object, constructorOpt?: unknown): void;
  stackTraceLimit?: number;
}

const V8Error = Error as unknown as V8ErrorConstructor;
const HAS_CAPTURE = typeof V8Error.captureStackTrace === "function";

/** Something a stack was captured into: read `stack` to format it. */
export interface StackHolder {
  stack?: string | undefined;
}

/**
 * Record the calling stack into `holder.stack`, leaving out `below` (the hook function) and what
 * it called; at most `limit` frames.
 */
export function captureStack(holder: StackHolder, below: unknown, limit: number): void {
  if (HAS_CAPTURE) {
    const saved = V8Error.stackTraceLimit;
    V8Error.stackTraceLimit = limit;
    V8Error.captureStackTrace!(holder, below);
    V8Error.stackTraceLimit = saved;
  } else {
    holder.stack = new Error().stack;
  }
}

/** A parsed frame with the function name (for dropping the allocator's own frames). */
export interface ParsedFrame extends TracebackFrame {
  readonly functionName: string;
}

const V8_FRAME = /^\s*at (?:(.*?) \()?(.*?):(\d+):\d+\)?$/;
const V8_FRAME_NO_POSITION = /^\s*at (?:(.*?) \()?(.*?)\)?$/;
const GECKO_FRAME = /^(.*?)@(.*?):(\d+):\d+$/;

/** The frames of a formatted stack, most recent first. Lines that are no frame are skipped. */
export function parseStack(stack: string | undefined): ParsedFrame[] {
  const frames: ParsedFrame[] = [];
  if (!stack) return frames;
  for (const line of stack.split("\n")) {
    let m = V8_FRAME.exec(line);
    if (m) {
      frames.push({ functionName: m[1] ?? "", filename: cleanFilename(m[2]!), lineno: Number(m[3]) });
      continue;
    }
    if (/^\s*at /.test(line)) {
      m = V8_FRAME_NO_POSITION.exec(line);
      frames.push({ functionName: m?.[1] ?? "", filename: cleanFilename(m?.[2] ?? "<unknown>"), lineno: 0 });
      continue;
    }
    m = GECKO_FRAME.exec(line);
    if (m) frames.push({ functionName: m[1] ?? "", filename: cleanFilename(m[2]!), lineno: Number(m[3]) });
  }
  return frames;
}

/** `file:///a/b.ts` → `/a/b.ts` (as tracemalloc shows paths); other names as they are. */
function cleanFilename(name: string): string {
  if (name.startsWith("file://")) {
    try {
      return decodeURIComponent(name.slice("file://".length));
    } catch {
      return name.slice("file://".length);
    }
  }
  return name;
}
