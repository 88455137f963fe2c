/**
 * Demo step: Python's `gc` module over the collector (@ft/gcmodule). Cycles of lists and of
 * instances become garbage, a finalizer resurrects one object (once), a pair with legacy
 * finalizers lands in `gc.garbage`; `gc.collect()` runs with DEBUG_STATS on, and the step ends
 * with `gc.get_stats()` and the trace of `gc.callbacks`.
 */
import type { DemoStep } from "./step.ts";

export const gcModuleStep: DemoStep = {
  title: "The gc module: collect(), debug output, callbacks and statistics",
  async run({ say }) {
    const { Runtime } = await import("@ft/interp");
    const { registerTypeBehaviour } = await import("@ft/gc");
    const { gcModuleFor, DEBUG_STATS, DEBUG_UNCOLLECTABLE } = await import("@ft/gcmodule");
    const runtime = Runtime.create({ maxBytes: 32 << 20 });
    const unregister: (() => void)[] = [];
    try {
      const gc = gcModuleFor(runtime, { stderr: (text) => say(`  │ ${text.trimEnd()}`) });
      const s = gc.space;
      const trace: string[] = [];
      gc.callbacks.push((phase, info) =>
        trace.push(
          `${phase.padEnd(5)} generation=${info.generation} collected=${info.collected} uncollectable=${info.uncollectable}`,
        ),
      );

      // 50 rings of 4 lists: garbage only the collector can find.
      for (let r = 0; r < 50; r++) {
        const first = s.newList();
        let prev = first;
        for (let i = 1; i < 4; i++) {
          const next = s.newList();
          s.listAppend(prev, next);
          if (prev !== first) s.decref(prev);
          prev = next;
        }
        s.listAppend(prev, first);
        if (prev !== first) s.decref(prev);
        s.decref(first);
      }
      // A Node cycle through instance __dict__s, and a Lazarus whose __del__ resurrects it.
      const Node = s.newClass("Node");
      const a = s.newInstance(Node);
      const b = s.newInstance(Node);
      s.setAttr(a, "next", b);
      s.setAttr(b, "next", a);
      s.decref(a);
      s.decref(b);
      const saved = s.newList();
      let finalized = 0;
      unregister.push(
        registerTypeBehaviour("Lazarus", {
          finalize(sp, op) {
            finalized++;
            sp.listAppend(saved, op);
          },
        }),
      );
      const Lazarus = s.newClass("Lazarus", { finalize: true });
      const laz = s.newInstance(Lazarus);
      s.setAttr(laz, "me", laz);
      s.decref(laz);
      // An Uncollectable pair: legacy finalizers (tp_del) in a cycle go to gc.garbage.
      unregister.push(registerTypeBehaviour("Uncollectable", { del() {} }));
      const Uncollectable = s.newClass("Uncollectable", { legacyDel: true });
      const u1 = s.newInstance(Uncollectable);
      const u2 = s.newInstance(Uncollectable);
      s.setAttr(u1, "partner", u2);
      s.setAttr(u2, "partner", u1);
      s.decref(u1);
      s.decref(u2);
      say("built: 50 rings of 4 lists, a Node pair, a resurrecting Lazarus, an Uncollectable pair");
      say(
        `gc.get_count() = (${gc.getCount().join(", ")}), gc.get_threshold() = (${gc.getThreshold().join(", ")})`,
      );

      gc.setDebug(DEBUG_STATS | DEBUG_UNCOLLECTABLE);
      say("gc.set_debug(gc.DEBUG_STATS | gc.DEBUG_UNCOLLECTABLE); gc.collect():");
      const found = gc.collect();
      gc.setDebug(0);
      say(`→ ${found} unreachable objects (collected + uncollectable)`);
      say(
        `Lazarus.__del__ ran ${finalized}× and saved it: gc.is_finalized(laz) = ${gc.isFinalized(s.listGet(saved, 0))}`,
      );
      const garbage: string[] = [];
      for (let i = 0; i < s.listLen(gc.garbage); i++) garbage.push(s.repr(s.listGet(gc.garbage, i)));
      say(`gc.garbage = [${garbage.join(", ")}]`);

      say("dropping the saved Lazarus and breaking the Uncollectable pair, then gc.collect(0):");
      s.listClear(saved);
      for (let i = 0; i < s.listLen(gc.garbage); i++) s.setAttr(s.listGet(gc.garbage, i), "partner", 0);
      s.listClear(gc.garbage);
      say(`→ ${gc.collect(0)} (Lazarus and its __dict__; its __del__ does not run again: ${finalized}×)`);
      for (const op of [saved, Node, Lazarus, Uncollectable]) s.decref(op);

      say("gc.get_stats():");
      say("  generation  collections  collected  uncollectable");
      for (const [g, st] of gc.getStats().entries()) {
        say(
          `  ${String(g).padStart(10)}  ${String(st.collections).padStart(11)}  ${String(st.collected).padStart(9)}  ${String(st.uncollectable).padStart(13)}`,
        );
      }
      say("gc.callbacks trace:");
      for (const line of trace) say(`  ${line}`);
    } finally {
      for (const u of unregister) u();
      runtime.finalize();
    }
  },
};
