import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Tests start real servers on loopback ports; two workers match the two cores CI has.
    pool: "forks",
    maxWorkers: 2,
  },
});
