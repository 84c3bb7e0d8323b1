import { main } from "../src/cli/verifier.ts";

process.exitCode = await main(process.argv.slice(2));
