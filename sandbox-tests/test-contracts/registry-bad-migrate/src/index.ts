// The registry with a migration that always fails: upgrading to it must change nothing.
export * from "../../../../contracts/registry/src/index.ts";

export function migrate(): void {
  throw new Error("registry-bad-migrate: this migration refuses to run");
}
