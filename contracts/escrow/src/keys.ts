/** Storage keys of the escrow's records (listed in README). Separators cannot occur in ids. */
import { DenseSet } from "../../common/src/store.ts";

export const jobKey = (id: string): string => `j:${id}`;
export const balanceKey = (account: string, asset: string): string => `b:${account}:${asset}`;
export const totalsKey = (asset: string): string => `t:${asset}`;
export const storageKey = (account: string): string => `s:${account}`;
export const allowanceKey = (owner: string, spender: string, asset: string): string =>
  `a:${owner}:${spender}:${asset}`;
export const approvalKey = (id: string): string => `q:${id}`;
export const tokenKey = (token: string): string => `tk:${token}`;
/** A provider's delivered or disputed jobs not closed yet (exposure.ts). */
export const exposureKey = (provider: string): string => `pe:${provider}`;
export const sessionKey = (id: string): string => `x:${id}`;

export const clientJobs = (account: string): DenseSet => new DenseSet(`JC:${account}`);
export const providerJobs = (account: string): DenseSet => new DenseSet(`JP:${account}`);
export const machineJobs = (machineId: string): DenseSet => new DenseSet(`JM:${machineId}`);
export const statusJobs = (status: string): DenseSet => new DenseSet(`JS:${status}`);
export const accountBalanceSet = (account: string): DenseSet => new DenseSet(`BA:${account}`);
export const allowanceSet = (owner: string): DenseSet => new DenseSet(`AL:${owner}`);
export const approvalSet = (owner: string): DenseSet => new DenseSet(`AP:${owner}`);
export const tokenSet = (): DenseSet => new DenseSet("TK");
export const clientSessions = (account: string): DenseSet => new DenseSet(`XC:${account}`);
export const providerSessions = (account: string): DenseSet => new DenseSet(`XP:${account}`);
