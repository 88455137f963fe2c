import { ftVitestConfig } from "../../tooling/vitest.shared.ts";

export default ftVitestConfig();
