/** Funded localnet accounts whose keys go into the stack's keystore, as a user would make them. */
import { KeyPair } from "near-api-js";
import { type Credentials, saveAccountKey } from "../credentials.ts";
import type { Chain } from "../near.ts";
import { YOCTO_PER_NEAR } from "../units.ts";

/** Creates `<name>.<master>` with `near` NEAR unless it exists; returns its id. */
export async function ensureAccount(
  chain: Chain,
  creds: Credentials,
  master: string,
  name: string,
  near: bigint,
): Promise<string> {
  const id = `${name}.${master}`;
  if ((await chain.balance(id)) !== null) return id;
  const keyPair = KeyPair.fromRandom("ed25519");
  await chain.account(master).createAccount({
    newAccountId: id,
    publicKey: keyPair.getPublicKey(),
    nearToTransfer: near * YOCTO_PER_NEAR,
  });
  saveAccountKey(creds, "localnet", id, keyPair);
  return id;
}
