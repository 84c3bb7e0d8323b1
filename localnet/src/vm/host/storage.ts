/**
 * Storage host functions with nearcore's costs, limits and storage_usage accounting. Trie nodes
 * are charged as the External reports them (localnet's model of nearcore's trie:
 * runtime/trie-model.ts): touching_trie_node for nodes new to the chunk's accounting cache,
 * read_cached_trie_node for the others.
 */
import { hostErrors } from "../errors.ts";
import type { VMLogic } from "../logic.ts";

/** nearcore's INLINE_DISK_VALUE_THRESHOLD: larger values pay the large-read overhead. */
const INLINE_VALUE_THRESHOLD = 4000;

function touchTrie(l: VMLogic, key: Uint8Array, readsValue: boolean): void {
  const { touched, cached } = l.ext.trieAccess(key, readsValue);
  l.gas.payPer("touching_trie_node", touched);
  l.gas.payPer("read_cached_trie_node", cached);
}

function readKey(l: VMLogic, len: bigint, ptr: bigint): Uint8Array {
  const key = l.memoryOrRegister(ptr, len);
  const limit = l.limits.max_length_storage_key;
  if (key.length > limit) throw hostErrors.keyLengthExceeded(key.length, limit);
  return key;
}

export function storage_write(
  l: VMLogic,
  keyLen: bigint,
  keyPtr: bigint,
  valueLen: bigint,
  valuePtr: bigint,
  reg: bigint,
): bigint {
  l.gas.payBase("base");
  l.prohibitInView("storage_write");
  l.gas.payBase("storage_write_base");
  const key = readKey(l, keyLen, keyPtr);
  const value = l.memoryOrRegister(valuePtr, valueLen);
  const limit = l.limits.max_length_storage_value;
  if (value.length > limit) throw hostErrors.valueLengthExceeded(value.length, limit);
  l.gas.payPer("storage_write_key_byte", key.length);
  l.gas.payPer("storage_write_value_byte", value.length);
  touchTrie(l, key, true);
  const evicted = l.ext.storageSet(key, value);
  if (evicted !== null) {
    l.gas.payPer("storage_write_evicted_byte", evicted.length);
    l.storageUsage = l.storageUsage - BigInt(evicted.length) + BigInt(value.length);
    l.setRegister(reg, evicted);
    return 1n;
  }
  const extra = l.config.transaction_costs.storage_usage_config.num_extra_bytes_record;
  l.storageUsage += BigInt(value.length + key.length + extra);
  return 0n;
}

export function storage_read(l: VMLogic, keyLen: bigint, keyPtr: bigint, reg: bigint): bigint {
  l.gas.payBase("base");
  l.gas.payBase("storage_read_base");
  const key = readKey(l, keyLen, keyPtr);
  l.gas.payPer("storage_read_key_byte", key.length);
  touchTrie(l, key, true);
  const value = l.ext.storageGet(key);
  if (value === null) return 0n;
  l.gas.payPer("storage_read_value_byte", value.length);
  if (value.length > INLINE_VALUE_THRESHOLD) {
    l.gas.payBase("storage_large_read_overhead_base");
    l.gas.payPer("storage_large_read_overhead_byte", value.length);
  }
  l.setRegister(reg, value);
  return 1n;
}

export function storage_remove(l: VMLogic, keyLen: bigint, keyPtr: bigint, reg: bigint): bigint {
  l.gas.payBase("base");
  l.prohibitInView("storage_remove");
  l.gas.payBase("storage_remove_base");
  const key = readKey(l, keyLen, keyPtr);
  l.gas.payPer("storage_remove_key_byte", key.length);
  touchTrie(l, key, true);
  const removed = l.ext.storageRemove(key);
  if (removed === null) return 0n;
  l.gas.payPer("storage_remove_ret_value_byte", removed.length);
  const extra = l.config.transaction_costs.storage_usage_config.num_extra_bytes_record;
  l.storageUsage -= BigInt(removed.length + key.length + extra);
  l.setRegister(reg, removed);
  return 1n;
}

export function storage_has_key(l: VMLogic, keyLen: bigint, keyPtr: bigint): bigint {
  l.gas.payBase("base");
  l.gas.payBase("storage_has_key_base");
  const key = readKey(l, keyLen, keyPtr);
  l.gas.payPer("storage_has_key_byte", key.length);
  touchTrie(l, key, false);
  return l.ext.storageHasKey(key) ? 1n : 0n;
}

/** Deprecated in nearcore: fails without charging. */
export function storage_iter_prefix(): bigint {
  throw hostErrors.deprecated("storage_iter_prefix");
}

export function storage_iter_range(): bigint {
  throw hostErrors.deprecated("storage_iter_range");
}

export function storage_iter_next(): bigint {
  throw hostErrors.deprecated("storage_iter_next");
}
