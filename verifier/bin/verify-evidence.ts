import { main } from "../src/cli/verify-evidence.ts";

process.exitCode = await main(process.argv.slice(2));
