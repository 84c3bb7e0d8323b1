/** Guest registers with nearcore's limits (vmstate.rs): size, count and total memory usage. */
import type { LimitConfig } from "../config/runtime-config.ts";
import { hostErrors } from "./errors.ts";
import type { GasCounter } from "./gas.ts";

export class Registers {
  private readonly values = new Map<bigint, Uint8Array>();
  /** Sum over registers of value length + 8, as nearcore counts it. */
  private usage = 0;

  get(gas: GasCounter, id: bigint): Uint8Array {
    const data = this.values.get(id);
    if (data === undefined) throw hostErrors.invalidRegisterId(id);
    gas.payBase("read_register_base");
    gas.payPer("read_register_byte", data.length);
    return data;
  }

  length(id: bigint): number | undefined {
    return this.values.get(id)?.length;
  }

  set(gas: GasCounter, limits: LimitConfig, id: bigint, data: Uint8Array): void {
    gas.payBase("write_register_base");
    gas.payPer("write_register_byte", data.length);
    if (data.length > limits.max_register_size) throw hostErrors.memoryAccessViolation();
    // nearcore fails at the count limit even when replacing an existing register.
    if (this.values.size >= limits.max_number_registers) throw hostErrors.memoryAccessViolation();
    const old = this.values.get(id);
    const usage = this.usage - (old === undefined ? 0 : old.length + 8) + data.length + 8;
    if (usage > limits.registers_memory_limit) throw hostErrors.memoryAccessViolation();
    this.usage = usage;
    this.values.set(id, data);
  }
}
