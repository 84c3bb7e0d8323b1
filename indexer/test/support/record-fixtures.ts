/**
 * Records the StreamerMessages of a registry flow on localnet into test/fixtures/registry-flow.json
 * (every block from the registry's deployment to the end, in order). Contract code inside deploy
 * actions and code state changes is replaced by "" to keep the file small. Run again after the
 * registry's events change: `node indexer/test/support/record-fixtures.ts`.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Chain, RegistryFlows } from "./chain.ts";

const OUT = fileURLToPath(new URL("../fixtures/registry-flow.json", import.meta.url));

/** JSON.parse reviver: wasm bytes (base64) are not needed by any test. */
function dropCode(key: string, value: unknown): unknown {
  return (key === "code" || key === "code_base64") && typeof value === "string" ? "" : value;
}

const chain = await Chain.start();
try {
  const start = (await chain.finalHeight()) + 1;
  const flows = await RegistryFlows.deploy(chain);
  const alice = await chain.createAccount("alice");
  const verifier = await chain.createAccount("verifier");
  await flows.registerProvider(alice);
  await flows.addVerifier(verifier);
  await flows.allowMeasurement();
  const machine = await flows.addMachine(alice);
  await flows.postVerdict(verifier, machine.id, machine.evidenceHash, true);
  // A failing call (already registered): its receipt fails and logs nothing.
  const again = await chain.call(alice, flows.registry, "register_provider", {
    name: "again",
    endpoint: "https://x.example.com",
    region: "eu-west-1",
  });
  if (again.ok) throw new Error("expected the second registration to fail");
  await chain.callOk(alice, flows.registry, "update_machine_price", {
    machine_id: machine.id,
    price_per_unit: "2000000000000000000",
  });
  const end = await chain.finalHeight();
  const blocks: unknown[] = [];
  for (let height = start; height <= end; height++) {
    const response = await fetch(`${chain.streamUrl}/v0/block/${height}`);
    blocks.push(JSON.parse(await response.text(), dropCode));
  }
  writeFileSync(
    OUT,
    `${JSON.stringify({ registry: flows.registry, owner: flows.owner, provider: alice, verifier, machineId: machine.id, blocks }, null, 1)}\n`,
  );
  console.log(`wrote ${blocks.length} blocks (${start}..${end}) to ${OUT}`);
} finally {
  await chain.stop();
}
