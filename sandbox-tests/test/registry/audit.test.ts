/**
 * Registry findings of the security audit (issue 15), each replayed as the transaction sequence
 * that proved it: machine key squatting (a key announced in request_challenge taken by another
 * provider with junk evidence, and a removed machine's key refused for ever).
 */
import { type NearAccount, Worker } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  addMachineArgs,
  balanceOf,
  callOk,
  deployRegistry,
  expectRejected,
  GAS_FEE_BOUND,
  keysetArgs,
  MACHINE_DEPOSIT,
  newEvidence,
  newKeyset,
  newMachineKey,
  ONE_NEAR,
  onlyEvent,
  proofFor,
  registerProvider,
  requestChallenge,
  stateOf,
} from "./helpers.ts";

const BYTE_COST = 10n ** 19n;

let worker: Worker;
let owner: NearAccount;
let alice: NearAccount;
let bob: NearAccount;
let mallory: NearAccount;
let registry: NearAccount;

beforeAll(async () => {
  worker = await Worker.init();
  const root = worker.rootAccount;
  owner = await root.createSubAccount("gov", { initialBalance: 20n * ONE_NEAR });
  const treasury = await root.createSubAccount("treasury", { initialBalance: 10n * ONE_NEAR });
  alice = await root.createSubAccount("alice", { initialBalance: 50n * ONE_NEAR });
  bob = await root.createSubAccount("bob", { initialBalance: 50n * ONE_NEAR });
  mallory = await root.createSubAccount("mallory", { initialBalance: 50n * ONE_NEAR });
  registry = await deployRegistry(root, "registry", owner, treasury);
  for (const provider of [alice, bob, mallory]) {
    await registerProvider(registry, provider);
  }
});

afterAll(async () => {
  await worker?.tearDown();
});

const keyMarkers = async (): Promise<string[]> =>
  (await stateOf(registry)).filter((line) => line.startsWith("k:"));

describe("finding: machine key squatting", () => {
  test("a key another provider announced cannot be taken without its signature over the taker and its nonce", async () => {
    const keyset = newKeyset();
    const aliceChallenge = await requestChallenge(registry, alice, keyset.key);
    // mallory saw alice's key in request_challenge and asks for a challenge on it too.
    const malloryChallenge = await requestChallenge(registry, mallory, keyset.key);
    const junk = newEvidence();
    await expectRejected(
      mallory,
      registry,
      { method: "add_machine", args: addMachineArgs(keyset, junk), deposit: MACHINE_DEPOSIT },
      "machine_key_signature: required",
      [alice],
    );
    // A signature by a key mallory holds, or alice's proof (for alice and her nonce), is refused.
    const own = newMachineKey();
    const forged = proofFor(
      registry,
      mallory,
      { ...keyset.key, keyPair: own.keyPair },
      malloryChallenge.nonce,
    );
    await expectRejected(
      mallory,
      registry,
      {
        method: "add_machine",
        args: addMachineArgs(keyset, junk, "tdx", forged),
        deposit: MACHINE_DEPOSIT,
      },
      `machine_key_signature: not a signature by ${keyset.key.text}`,
    );
    const stolen = proofFor(registry, alice, keyset.key, aliceChallenge.nonce);
    await expectRejected(
      mallory,
      registry,
      {
        method: "add_machine",
        args: addMachineArgs(keyset, junk, "tdx", stolen),
        deposit: MACHINE_DEPOSIT,
      },
      `machine_key_signature: not a signature by ${keyset.key.text}`,
    );
    // The key's holder registers it with her own proof.
    const result = await callOk(alice, registry, {
      method: "add_machine",
      args: addMachineArgs(
        keyset,
        newEvidence(),
        "tdx",
        proofFor(registry, alice, keyset.key, aliceChallenge.nonce),
      ),
      deposit: MACHINE_DEPOSIT,
    });
    expect(onlyEvent(result, "machine_added")).toMatchObject({
      provider: alice.accountId,
      machine_public_key: keyset.key.text,
    });
  });

  test("a removed machine frees its key; a rotated-away key is freed once the new keyset is current", async () => {
    await callOk(owner, registry, { method: "set_dev_mode", args: { enabled: true } });
    const first = newKeyset();
    const challenge = await requestChallenge(registry, alice, first.key);
    const added = await callOk(alice, registry, {
      method: "add_machine",
      args: addMachineArgs(
        first,
        newEvidence(),
        "none-dev",
        proofFor(registry, alice, first.key, challenge.nonce),
      ),
      deposit: MACHINE_DEPOSIT,
    });
    const machineId = added.parseResult<{ id: string }>().id;
    expect(await keyMarkers()).toContain(`k:${first.key.text}=${JSON.stringify(machineId)}`);

    // While the machine holds the key, nobody else registers it, even with the key's signature.
    const bobChallenge = await requestChallenge(registry, bob, first.key);
    await expectRejected(
      bob,
      registry,
      {
        method: "add_machine",
        args: addMachineArgs(
          first,
          newEvidence(),
          "none-dev",
          proofFor(registry, bob, first.key, bobChallenge.nonce),
        ),
        deposit: MACHINE_DEPOSIT,
      },
      `machine key ${first.key.text} is already registered (machine ${machineId})`,
    );

    // A none-dev machine takes a new keyset at once: the key it leaves is free again.
    const second = newKeyset();
    const rotation = await requestChallenge(registry, alice, second.key);
    await callOk(alice, registry, {
      method: "submit_evidence",
      args: {
        machine_id: machineId,
        evidence: newEvidence().base64,
        ...keysetArgs(second),
        machine_key_signature: proofFor(registry, alice, second.key, rotation.nonce),
      },
      deposit: MACHINE_DEPOSIT,
    });
    expect(await keyMarkers()).not.toContain(`k:${first.key.text}=${JSON.stringify(machineId)}`);
    const bobMachine = await callOk(bob, registry, {
      method: "add_machine",
      args: addMachineArgs(
        first,
        newEvidence(),
        "none-dev",
        proofFor(registry, bob, first.key, bobChallenge.nonce),
      ),
      deposit: MACHINE_DEPOSIT,
    });
    expect(onlyEvent(bobMachine, "machine_added")).toMatchObject({
      provider: bob.accountId,
      machine_public_key: first.key.text,
    });

    // Removing the machine frees its key and pays the marker's storage back to the provider.
    const before = await balanceOf(alice);
    const usageBefore = BigInt((await registry.accountView()).storage_usage);
    const removed = await callOk(alice, registry, {
      method: "remove_machine",
      args: { machine_id: machineId },
    });
    expect(onlyEvent(removed, "machine_removed")).toMatchObject({
      id: machineId,
      machine_public_key: second.key.text,
    });
    expect(await keyMarkers()).not.toContain(`k:${second.key.text}=${JSON.stringify(machineId)}`);
    // Every byte freed (the record, its set entries and the key marker) is paid back to alice.
    const freed = usageBefore - BigInt((await registry.accountView()).storage_usage);
    const gained = (await balanceOf(alice)) - before;
    expect(gained).toBeLessThanOrEqual(freed * BYTE_COST);
    expect(gained).toBeGreaterThan(freed * BYTE_COST - GAS_FEE_BOUND);
    const again = await requestChallenge(registry, alice, second.key);
    const readded = await callOk(alice, registry, {
      method: "add_machine",
      args: addMachineArgs(
        second,
        newEvidence(),
        "none-dev",
        proofFor(registry, alice, second.key, again.nonce),
      ),
      deposit: MACHINE_DEPOSIT,
    });
    expect(onlyEvent(readded, "machine_added")).toMatchObject({
      machine_public_key: second.key.text,
    });
  });
});
