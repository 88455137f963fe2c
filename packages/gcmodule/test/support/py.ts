// Small helpers that let the ported tests read like their Python originals.
import {
  createStandaloneSpace,
  type ObjectSpace,
  registerTypeBehaviour,
  type TypeBehaviour,
  validateObjects,
} from "@ft/gc";
import { expect } from "vitest";
import { type GcModule, gcModule } from "../../src/index.ts";

export interface Harness {
  s: ObjectSpace;
  gc: GcModule;
  /** What the module wrote to its stderr sink. */
  stderr: string[];
  /** "Exception ignored in …" reports. */
  unraisable: string[];
}

/** A fresh interpreter-like space (standalone host) and its gc module; validated after each collection. */
export function harness(): Harness {
  const s = createStandaloneSpace({ maxBytes: 64 << 20 });
  const stderr: string[] = [];
  const unraisable: string[] = [];
  const gc = gcModule(s, {
    stderr: (text) => stderr.push(text),
    onUnraisable: (message, error) => unraisable.push(`${message}: ${String(error)}`),
  });
  s.onCollectorPhase = (phase) => {
    if (phase === "done") expect(validateObjects(s)).toEqual([]);
  };
  return { s, gc, stderr, unraisable };
}

/** The items of a list (borrowed). */
export function items(s: ObjectSpace, list: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.listLen(list); i++) out.push(s.listGet(list, i));
  return out;
}

/** The items of a NEW list, which is then released. */
export function take(s: ObjectSpace, list: number): number[] {
  const out = items(s, list);
  s.decref(list);
  return out;
}

/** A new list of new ints. */
export function intList(s: ObjectSpace, values: number[]): number {
  const l = s.newList();
  for (const v of values) {
    const x = s.newInt(v);
    s.listAppend(l, x);
    s.decref(x);
  }
  return l;
}

/** Register a behaviour for the test; returns the unregister function for afterEach. */
export function behaviour(name: string, b: TypeBehaviour): () => void {
  return registerTypeBehaviour(name, b);
}

/** `del gc.garbage[:]`. */
export function clearGarbage(h: Harness): void {
  h.s.listClear(h.gc.garbage);
}
