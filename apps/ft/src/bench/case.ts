/**
 * The benchmark case process: `node dist/bench/case.js <suite/case> <params-json>`.
 *
 * `ft bench` forks this entry once per case and round, so each process runs exactly one case
 * and every call site in the workload sees one allocator class. The result goes back over the
 * IPC channel ({@link CaseMessage}); run by hand (no IPC) it is printed as JSON.
 */
import { MimallocUnavailableError } from "../runtime/mimalloc.ts";
import { findCase } from "./suites/index.ts";
import type { CaseResult } from "./types.ts";

export type CaseMessage =
  | { ok: true; result: CaseResult }
  | { ok: false; error: string; unavailable: boolean };

async function runCase(id: string | undefined, paramsJson: string | undefined): Promise<CaseMessage> {
  const found = id ? findCase(id) : undefined;
  if (!found) return { ok: false, error: `unknown benchmark case ${JSON.stringify(id)}`, unavailable: false };
  try {
    const params = paramsJson ? JSON.parse(paramsJson) : found.case.params({ quick: false });
    return { ok: true, result: await found.case.run(params) };
  } catch (e) {
    const err = e as Error;
    return {
      ok: false,
      error: err instanceof MimallocUnavailableError ? err.message : (err.stack ?? String(err)),
      unavailable: err instanceof MimallocUnavailableError,
    };
  }
}

const message = await runCase(process.argv[2], process.argv[3]);
if (process.send) {
  process.send(message, () => process.exit(0));
} else {
  process.stdout.write(`${JSON.stringify(message, null, 2)}\n`);
  process.exit(message.ok ? 0 : 1);
}
