/**
 * The suite registry: `ft bench` runs these in this order. To add a suite, write a module that
 * exports a {@link Suite} (name, cases, ratios) and list it here; case ids are `suite/case`.
 */
import type { BenchCase, Suite } from "../types.ts";
import { allocSuite } from "./alloc.ts";
import { allocMemSuite } from "./alloc-mem.ts";
import { allocMt1Suite, allocMt2Suite } from "./alloc-mt.ts";
import { allocXtSuite } from "./alloc-xt.ts";
import { interpSuite } from "./interp.ts";
import { pymemSuite } from "./pymem.ts";
import { visitSuite } from "./visit.ts";
import { gcSuite } from "./gc.ts";

export const SUITES: readonly Suite[] = [
  allocSuite,
  allocMt1Suite,
  allocMt2Suite,
  allocXtSuite,
  allocMemSuite,
  visitSuite,
  pymemSuite,
  interpSuite,
  gcSuite,
];

export interface RegisteredCase {
  id: string;
  suite: Suite;
  case: BenchCase;
}

/** Every case of `suites`, with its id. */
export function allCases(suites: readonly Suite[] = SUITES): RegisteredCase[] {
  return suites.flatMap((suite) =>
    suite.cases.map((c) => ({ id: `${suite.name}/${c.name}`, suite, case: c })),
  );
}

/** The case with id `suite/case`, or undefined. */
export function findCase(id: string, suites: readonly Suite[] = SUITES): RegisteredCase | undefined {
  return allCases(suites).find((c) => c.id === id);
}
