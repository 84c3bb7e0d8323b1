/**
 * The state of one function call seen by host functions (nearcore's VMLogic): context, gas,
 * registers, guest memory, logs, promises and the receipts they build, balance and storage
 * usage. Helpers charge gas exactly where nearcore's do, before the work they pay for.
 */
import type { RuntimeConfig } from "../config/runtime-config.ts";
import { isValidAccountId } from "./account-id.ts";
import { hostErrors } from "./errors.ts";
import type { GasCounter } from "./gas.ts";
import { Registers } from "./registers.ts";
import type { External, ReceiptDraft, ReturnData, VMContext } from "./types.ts";

export const U64_MAX = 0xffffffffffffffffn;

export type Promise = { kind: "receipt"; receipt: number } | { kind: "joint"; receipts: number[] };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

export function utf8Length(s: string): number {
  return utf8Encoder.encode(s).length;
}

export class VMLogic {
  readonly context: VMContext;
  readonly ext: External;
  readonly config: RuntimeConfig;
  readonly gas: GasCounter;
  readonly registers = new Registers();
  memory: WebAssembly.Memory | null = null;
  readonly logs: string[] = [];
  totalLogLength = 0;
  returnData: ReturnData = { kind: "none" };
  balance: bigint;
  storageUsage: bigint;
  readonly promises: Promise[] = [];
  readonly receipts: ReceiptDraft[] = [];
  /** Function calls with a gas weight: [receipt index, action index, weight]. */
  readonly gasWeights: [number, number, bigint][] = [];

  constructor(context: VMContext, ext: External, config: RuntimeConfig, gas: GasCounter) {
    this.context = context;
    this.ext = ext;
    this.config = config;
    this.gas = gas;
    this.balance = context.accountBalance;
    this.storageUsage = context.storageUsage;
  }

  get limits() {
    return this.config.wasm_config.limit_config;
  }

  isView(): boolean {
    return this.context.view !== null;
  }

  prohibitInView(method: string): void {
    if (this.context.view !== null) throw hostErrors.prohibitedInView(method);
  }

  private buffer(): Uint8Array {
    if (this.memory === null) throw hostErrors.memoryAccessViolation();
    return new Uint8Array(this.memory.buffer);
  }

  /** Guest memory slice, copied. Charges read_memory_base + read_memory_byte * len first. */
  readMemory(ptr: bigint, len: bigint): Uint8Array {
    this.gas.payBase("read_memory_base");
    this.gas.payPer("read_memory_byte", len);
    return this.viewForFree(ptr, len).slice();
  }

  viewForFree(ptr: bigint, len: bigint): Uint8Array {
    const mem = this.buffer();
    const end = ptr + len;
    if (end > BigInt(mem.length)) throw hostErrors.memoryAccessViolation();
    return mem.subarray(Number(ptr), Number(end));
  }

  writeMemory(ptr: bigint, data: Uint8Array): void {
    this.gas.payBase("write_memory_base");
    this.gas.payPer("write_memory_byte", data.length);
    const mem = this.buffer();
    if (ptr + BigInt(data.length) > BigInt(mem.length)) throw hostErrors.memoryAccessViolation();
    mem.set(data, Number(ptr));
  }

  readU128(ptr: bigint): bigint {
    const b = this.readMemory(ptr, 16n);
    let v = 0n;
    for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(b[i] as number);
    return v;
  }

  writeU128(ptr: bigint, value: bigint): void {
    const b = new Uint8Array(16);
    let v = value;
    for (let i = 0; i < 16; i++) {
      b[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    this.writeMemory(ptr, b);
  }

  /** `len == u64::MAX` reads register `ptr`, otherwise guest memory. */
  memoryOrRegister(ptr: bigint, len: bigint): Uint8Array {
    if (len === U64_MAX) return this.registers.get(this.gas, ptr);
    return this.readMemory(ptr, len);
  }

  setRegister(id: bigint, data: Uint8Array): void {
    this.registers.set(this.gas, this.limits, id, data);
  }

  readAccountId(ptr: bigint, len: bigint): string {
    const buf = this.memoryOrRegister(ptr, len);
    this.gas.payBase("utf8_decoding_base");
    this.gas.payPer("utf8_decoding_byte", buf.length);
    let id: string;
    try {
      id = utf8.decode(buf);
    } catch {
      throw hostErrors.badUtf8();
    }
    if (!isValidAccountId(id)) throw hostErrors.invalidAccountId();
    return id;
  }

  /** nearcore's get_utf8_string, including the nul-terminated form (`len == u64::MAX`). */
  readUtf8(len: bigint, ptr: bigint): string {
    this.gas.payBase("utf8_decoding_base");
    const maxLen = BigInt(Math.max(0, this.limits.max_total_log_length - this.totalLogLength));
    let buf: Uint8Array;
    if (len !== U64_MAX) {
      if (len > maxLen)
        throw hostErrors.totalLogLengthExceeded(
          BigInt(this.totalLogLength) + len,
          this.limits.max_total_log_length,
        );
      buf = this.readMemory(ptr, len);
    } else {
      const bytes: number[] = [];
      for (let i = 0n; i <= maxLen; i++) {
        const el = this.readMemory(ptr + i, 1n)[0] as number;
        if (el === 0) break;
        if (i === maxLen) {
          throw hostErrors.totalLogLengthExceeded(
            BigInt(this.totalLogLength) + maxLen + 1n,
            this.limits.max_total_log_length,
          );
        }
        bytes.push(el);
      }
      buf = Uint8Array.from(bytes);
    }
    this.gas.payPer("utf8_decoding_byte", buf.length);
    try {
      return utf8.decode(buf);
    } catch {
      throw hostErrors.badUtf8();
    }
  }

  /** nearcore's get_utf16_string (little-endian; `len == u64::MAX` reads to a 0x0000 unit). */
  readUtf16(lenArg: bigint, ptr: bigint): string {
    this.gas.payBase("utf16_decoding_base");
    const maxLen = BigInt(Math.max(0, this.limits.max_total_log_length - this.totalLogLength));
    let len = lenArg;
    let view: Uint8Array;
    if (len === U64_MAX) {
      len = 0n;
      for (;;) {
        const unit = this.readMemory(ptr + len, 2n);
        if (unit[0] === 0 && unit[1] === 0) break;
        len += 2n;
        if (len > maxLen) {
          throw hostErrors.totalLogLengthExceeded(
            BigInt(this.totalLogLength) + len,
            this.limits.max_total_log_length,
          );
        }
      }
      view = this.viewForFree(ptr, len);
    } else {
      view = this.readMemory(ptr, len);
    }
    if (view.length % 2 !== 0) throw hostErrors.badUtf16();
    if (len > maxLen) {
      throw hostErrors.totalLogLengthExceeded(
        BigInt(this.totalLogLength) + len,
        this.limits.max_total_log_length,
      );
    }
    this.gas.payPer("utf16_decoding_byte", len);
    let out = "";
    for (let i = 0; i < view.length; i += 2) {
      const unit = (view[i] as number) | ((view[i + 1] as number) << 8);
      if (unit >= 0xd800 && unit <= 0xdbff) {
        const next =
          i + 3 < view.length ? (view[i + 2] as number) | ((view[i + 3] as number) << 8) : -1;
        if (next < 0xdc00 || next > 0xdfff) throw hostErrors.badUtf16();
        out += String.fromCharCode(unit, next);
        i += 2;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        throw hostErrors.badUtf16();
      } else {
        out += String.fromCharCode(unit);
      }
    }
    return out;
  }

  checkCanAddLog(): void {
    if (this.logs.length >= this.limits.max_number_logs) {
      throw hostErrors.numberOfLogsExceeded(this.limits.max_number_logs);
    }
  }

  pushLog(message: string, byteLength: number): void {
    const total = this.totalLogLength + byteLength;
    if (total > this.limits.max_total_log_length) {
      // nearcore reports the new total plus the message length again.
      this.totalLogLength = total;
      throw hostErrors.totalLogLengthExceeded(
        BigInt(total + byteLength),
        this.limits.max_total_log_length,
      );
    }
    this.totalLogLength = total;
    this.logs.push(message);
  }

  deductBalance(amount: bigint): void {
    if (amount > this.balance) throw hostErrors.balanceExceeded();
    this.balance -= amount;
  }

  pushPromise(p: Promise): bigint {
    const index = this.promises.length;
    this.promises.push(p);
    const limit = this.limits.max_promises_per_function_call_action;
    if (this.promises.length > limit)
      throw hostErrors.numberPromisesExceeded(this.promises.length, limit);
    return BigInt(index);
  }
}
