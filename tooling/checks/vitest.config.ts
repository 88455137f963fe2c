import { ftVitestConfig } from "../vitest.shared.ts";

export default ftVitestConfig();
