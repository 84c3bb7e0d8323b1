/** Storage keys of the registry's records (listed in README). Separators cannot occur in ids. */
import { DenseSet } from "../../common/src/store.ts";

export const providerKey = (account: string): string => `p:${account}`;
export const machineKey = (id: string): string => `m:${id}`;
/** Every machine public key ever registered, to its machine id: a key is registered once, ever. */
export const publicKeyKey = (publicKey: string): string => `k:${publicKey}`;
export const challengeKey = (provider: string, publicKey: string): string =>
  `c:${provider}:${publicKey}`;
/** Every evidence hash ever submitted: the same evidence cannot be submitted twice. */
export const evidenceKey = (hash: string): string => `e:${hash}`;
export const verdictsKey = (machineId: string): string => `v:${machineId}`;
export const attestationKey = (machineId: string): string => `t:${machineId}`;
export const allowedKey = (measurementId: string): string => `al:${measurementId}`;

export const providerSet = (): DenseSet => new DenseSet("P");
export const machineSet = (): DenseSet => new DenseSet("M");
export const providerMachineSet = (provider: string): DenseSet => new DenseSet(`PM:${provider}`);
export const allowlistSet = (): DenseSet => new DenseSet("A");
