/**
 * An in-process localnet with test.near's key in a temporary near-cli keystore, for the
 * end-to-end tests of the commands.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyPair, type KeyPairString } from "near-api-js";
import { type Localnet, startLocalnet } from "../../../localnet/src/index.ts";
import { createRuntime } from "../../../localnet/src/runtime/index.ts";
import { runFunctionCall } from "../../../localnet/src/vm/index.ts";
import { type Credentials, saveAccountKey } from "../../src/credentials.ts";
import { Chain } from "../../src/near.ts";

export interface TestNet {
  net: Localnet;
  chain: Chain;
  creds: Credentials;
  dir: string;
  master: string;
  stop(): Promise<void>;
}

export async function startTestNet(): Promise<TestNet> {
  const net = await startLocalnet({ runtime: createRuntime(runFunctionCall), blockIntervalMs: 0 });
  const dir = mkdtempSync(join(tmpdir(), "scripts-e2e-"));
  const creds: Credentials = { dir: join(dir, "credentials"), env: {} };
  const validator = net.accounts.validator;
  saveAccountKey(
    creds,
    "localnet",
    validator.accountId,
    KeyPair.fromString(validator.secretKey as KeyPairString),
  );
  const chain = new Chain({ id: "localnet", rpcUrl: net.rpcUrl }, creds);
  return {
    net,
    chain,
    creds,
    dir,
    master: validator.accountId,
    async stop() {
      await net.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates a funded account whose key goes into the test keystore. */
export async function createAccount(t: TestNet, name: string, near: bigint): Promise<string> {
  const id = `${name}.${t.master}`;
  const keyPair = KeyPair.fromRandom("ed25519");
  await t.chain.account(t.master).createAccount({
    newAccountId: id,
    publicKey: keyPair.getPublicKey(),
    nearToTransfer: near * 10n ** 24n,
  });
  saveAccountKey(t.creds, "localnet", id, keyPair);
  return id;
}
