#!/usr/bin/env node
// Checks the package boundaries of the workspace (packages/*, apps/*, tooling/*):
//   1. a .ts file under a package's src/ or test/ imports another workspace package only through
//      a subpath its `exports` lists (no `@ft/mimalloc/internal/…`), only if the package is
//      declared in its dependencies, and never reaches into another package by a relative path;
//   2. the dependency graph among workspace packages has no cycle;
//   3. a portable-core package (`"ft": { "platform": "neutral" }`) has no src/ file that imports
//      `node:*` or a Node builtin, or uses `process` or `Buffer`.
// Usage: node tooling/check-boundaries.mjs [rootDir]   (prints every problem, exits 1 if any)
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const WORKSPACE_DIRS = ["packages", "apps", "tooling"];
const SOURCE_DIRS = ["src", "test"];
const SOURCE_FILE = /\.(?:[cm]?ts|tsx)$/;
const DEPENDENCY_FIELDS = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"];
const NODE_BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith("_")));
const NODE_ONLY_GLOBALS = ["process", "Buffer"];

/** Every workspace package under rootDir: { name, dir, pkg }. */
export function readWorkspace(rootDir) {
  const packages = [];
  for (const group of WORKSPACE_DIRS) {
    const groupDir = join(rootDir, group);
    if (!existsSync(groupDir)) continue;
    for (const entry of readdirSync(groupDir, { withFileTypes: true }).sort(byName)) {
      const dir = join(groupDir, entry.name);
      const manifest = join(dir, "package.json");
      if (!entry.isDirectory() || !existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, "utf8"));
      packages.push({ name: pkg.name ?? relative(rootDir, dir), dir, pkg });
    }
  }
  return packages;
}

/** Checks rootDir; returns the list of problems (empty when the boundaries hold). */
export function checkBoundaries(rootDir) {
  const root = resolve(rootDir);
  const packages = readWorkspace(root);
  const byName = new Map(packages.map((p) => [p.name, p]));
  const problems = [];
  for (const p of packages) problems.push(...checkPackageSources(root, p, packages, byName));
  problems.push(...findCycles(packages, byName).map((cycle) => `dependency cycle: ${cycle.join(" → ")}`));
  return problems;
}

function checkPackageSources(root, p, packages, byName) {
  const problems = [];
  const declared = new Set(DEPENDENCY_FIELDS.flatMap((f) => Object.keys(p.pkg[f] ?? {})));
  const neutral = p.pkg.ft?.platform === "neutral";
  for (const sub of SOURCE_DIRS) {
    for (const file of sourceFiles(join(p.dir, sub))) {
      const where = (index, text) => `${relative(root, file).split(sep).join("/")}:${lineAt(text, index)}`;
      const text = readFileSync(file, "utf8");
      const code = blankCommentsAndStrings(text);
      for (const ref of moduleReferences(text, code)) {
        const at = where(ref.index, text);
        if (ref.specifier.startsWith(".")) {
          const target = packageContaining(packages, resolve(dirname(file), ref.specifier));
          if (target && target !== p) {
            problems.push(`${at}: "${ref.specifier}" reaches into ${target.name} by a relative path`);
          }
          continue;
        }
        if (ref.relativeOnly) continue;
        const { name, subpath } = splitSpecifier(ref.specifier);
        const target = byName.get(name);
        if (target) {
          if (target !== p && !declared.has(name)) {
            problems.push(`${at}: imports ${name}, which ${p.name} does not declare in its dependencies`);
          }
          if (!isExported(target.pkg.exports, subpath)) {
            problems.push(`${at}: imports ${ref.specifier}, which is not in ${name}'s exports (internals)`);
          }
        }
        if (neutral && sub === "src" && isNodeBuiltin(ref.specifier)) {
          problems.push(`${at}: portable-core package ${p.name} imports the Node builtin "${ref.specifier}"`);
        }
      }
      if (neutral && sub === "src") {
        for (const use of nodeGlobalUses(code)) {
          problems.push(`${where(use.index, text)}: portable-core package ${p.name} uses \`${use.name}\``);
        }
      }
    }
  }
  return problems;
}

function sourceFiles(dir) {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort(byName)) {
    if (entry.name === "node_modules" || entry.name === "dist") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE_FILE.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** The innermost workspace package whose directory holds path. */
function packageContaining(packages, path) {
  let best;
  for (const p of packages) {
    if ((path === p.dir || path.startsWith(p.dir + sep)) && (!best || p.dir.length > best.dir.length))
      best = p;
  }
  return best;
}

/** `@scope/name/a/b` → { name: "@scope/name", subpath: "./a/b" }; no subpath → ".". */
export function splitSpecifier(specifier) {
  const parts = specifier.split("/");
  const n = specifier.startsWith("@") ? 2 : 1;
  const rest = parts.slice(n).join("/");
  return { name: parts.slice(0, n).join("/"), subpath: rest ? `./${rest}` : "." };
}

/** Whether `exports` resolves subpath to something (Node's rules: exact key, else longest `*` pattern). */
export function isExported(exports, subpath) {
  if (exports === undefined || exports === null) return subpath === ".";
  const keys = typeof exports === "object" && !Array.isArray(exports) ? Object.keys(exports) : [];
  if (!keys.some((k) => k.startsWith("."))) return subpath === "."; // a single target or conditions only
  if (keys.includes(subpath)) return exports[subpath] !== null;
  let best;
  for (const key of keys) {
    const star = key.indexOf("*");
    if (star < 0) continue;
    const prefix = key.slice(0, star);
    const suffix = key.slice(star + 1);
    const matches =
      subpath.length >= key.length &&
      subpath.startsWith(prefix) &&
      subpath.endsWith(suffix) &&
      subpath !== prefix;
    if (matches && (!best || prefix.length > best.indexOf("*"))) best = key;
  }
  return best !== undefined && exports[best] !== null;
}

function isNodeBuiltin(specifier) {
  if (specifier.startsWith("node:")) return true;
  return NODE_BUILTINS.has(specifier.split("/")[0]) || NODE_BUILTINS.has(specifier);
}

// The module references of a file: found on the code with comments and string contents blanked
// (so an import inside a string or a comment does not count), read from the original text.
const REFERENCE_PATTERNS = [
  { re: /\b(?:import|export)\s+(?:type\s+)?[^;'"`]*?\bfrom\s*(["'])/g },
  { re: /\bimport\s*(["'])/g },
  { re: /\bimport\s*\(\s*(["'])/g },
  { re: /\brequire\s*\(\s*(["'])/g },
  { re: /\bvi\s*\.\s*(?:mock|doMock|importActual|importMock)\s*\(\s*(["'])/g },
  { re: /\bnew\s+URL\s*\(\s*(["'])/g, relativeOnly: true },
];

function moduleReferences(text, code) {
  const refs = [];
  for (const { re, relativeOnly } of REFERENCE_PATTERNS) {
    for (const m of code.matchAll(re)) {
      const open = m.index + m[0].length - 1;
      const close = code.indexOf(m[1], open + 1);
      if (close < 0) continue;
      refs.push({
        specifier: text.slice(open + 1, close),
        index: m.index,
        relativeOnly: relativeOnly ?? false,
      });
    }
  }
  return refs.sort((a, b) => a.index - b.index);
}

function nodeGlobalUses(code) {
  const uses = [];
  const re = new RegExp(`(globalThis\\s*\\.\\s*)?(?<![\\w$])(${NODE_ONLY_GLOBALS.join("|")})(?![\\w$])`, "g");
  for (const m of code.matchAll(re)) {
    const before = code.slice(0, m.index).trimEnd();
    const isMember = !m[1] && before.endsWith(".") && !before.endsWith("...");
    const isKey = /^\s*:/.test(code.slice(m.index + m[0].length)) && /[{,]$/.test(before);
    if (!isMember && !isKey) uses.push({ name: m[2], index: m.index });
  }
  return uses;
}

const REGEX_AFTER_WORD = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

/**
 * The text with comments replaced by spaces and the contents of string, template and regular
 * expression literals replaced by spaces (quotes and `${…}` code kept); same length, same lines.
 */
export function blankCommentsAndStrings(text) {
  const out = text.split("");
  const blank = (from, to) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  const braces = []; // for each open `{`: true when it opened a template's `${`
  let prev = ""; // last significant character of code
  let prevWord = "";
  let i = 0;
  const n = text.length;
  const scanTemplate = (start) => {
    // start is just after "`" or after the "}" closing a `${…}`; returns the index after the part.
    let k = start;
    while (k < n) {
      const c = text[k];
      if (c === "\\") k += 2;
      else if (c === "`") {
        blank(start, k);
        return { end: k + 1, open: false };
      } else if (c === "$" && text[k + 1] === "{") {
        blank(start, k);
        return { end: k + 2, open: true };
      } else k++;
    }
    blank(start, n);
    return { end: n, open: false };
  };
  while (i < n) {
    const c = text[i];
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      blank(i, end < 0 ? n : end);
      i = end < 0 ? n : end;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      blank(i, end < 0 ? n : end + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      let k = i + 1;
      while (k < n && text[k] !== c && text[k] !== "\n") k += text[k] === "\\" ? 2 : 1;
      blank(i + 1, Math.min(k, n));
      i = k + 1;
      prev = c;
      prevWord = "";
    } else if (c === "`") {
      const part = scanTemplate(i + 1);
      if (part.open) braces.push(true);
      i = part.end;
      prev = part.open ? "{" : "`";
      prevWord = "";
    } else if (
      c === "/" &&
      (prev === "" || "(,=:[!&|?{};+-*%<>~^".includes(prev) || REGEX_AFTER_WORD.has(prevWord))
    ) {
      let k = i + 1;
      let inClass = false;
      while (k < n && text[k] !== "\n") {
        const d = text[k];
        if (d === "\\") k++;
        else if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        k++;
      }
      blank(i + 1, Math.min(k, n));
      i = k + 1;
      prev = "/";
      prevWord = "";
    } else if (c === "{") {
      braces.push(false);
      prev = c;
      prevWord = "";
      i++;
    } else if (c === "}" && braces.length > 0 && braces[braces.length - 1]) {
      braces.pop();
      const part = scanTemplate(i + 1);
      if (part.open) braces.push(true);
      i = part.end;
      prev = part.open ? "{" : "`";
      prevWord = "";
    } else if (/[\w$]/.test(c)) {
      let k = i;
      while (k < n && /[\w$]/.test(text[k])) k++;
      prevWord = text.slice(i, k);
      prev = text[k - 1];
      i = k;
    } else {
      if (c === "}") braces.pop();
      if (!/\s/.test(c)) {
        prev = c;
        prevWord = "";
      }
      i++;
    }
  }
  return out.join("");
}

/** Every cycle in the workspace dependency graph, each as a path that ends where it starts. */
export function findCycles(packages, byName = new Map(packages.map((p) => [p.name, p]))) {
  const edges = new Map(
    packages.map((p) => [
      p.name,
      [...new Set(DEPENDENCY_FIELDS.flatMap((f) => Object.keys(p.pkg[f] ?? {})))]
        .filter((d) => byName.has(d) && d !== p.name)
        .sort(),
    ]),
  );
  const cycles = [];
  const seen = new Set();
  const state = new Map(); // name → "active" | "done"
  const stack = [];
  const visit = (name) => {
    state.set(name, "active");
    stack.push(name);
    for (const dep of edges.get(name)) {
      if (state.get(dep) === "active") {
        const cycle = stack.slice(stack.indexOf(dep));
        const key = rotateToSmallest(cycle).join("\0");
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...cycle, dep]);
        }
      } else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(name, "done");
  };
  for (const name of [...edges.keys()].sort()) if (!state.has(name)) visit(name);
  return cycles;
}

function rotateToSmallest(cycle) {
  let m = 0;
  for (let k = 1; k < cycle.length; k++) if (cycle[k] < cycle[m]) m = k;
  return [...cycle.slice(m), ...cycle.slice(0, m)];
}

function lineAt(text, index) {
  let line = 1;
  for (let k = 0; k < index; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

function byName(a, b) {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const rootDir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..");
  const problems = checkBoundaries(rootDir);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0) {
    console.error(`check-boundaries: ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
    process.exit(1);
  }
  console.log(`check-boundaries: ${readWorkspace(resolve(rootDir)).length} packages, no problems`);
}
