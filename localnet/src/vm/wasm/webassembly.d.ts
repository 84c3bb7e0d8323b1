/**
 * The part of the WebAssembly JS API that the VM uses. The project compiles against lib es2023
 * without "dom", which is where TypeScript keeps these declarations.
 */
declare namespace WebAssembly {
  type ImportValue = ((...args: never[]) => unknown) | Global | Memory | Table | number | bigint;
  type Imports = Record<string, Record<string, ImportValue>>;
  type ExportValue = ((...args: never[]) => unknown) | Global | Memory | Table;

  class Module {
    constructor(bytes: Uint8Array<ArrayBuffer>);
  }

  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, ExportValue>;
  }

  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }

  class Table {
    readonly length: number;
  }

  class Global {
    constructor(
      descriptor: { value: "i32" | "i64" | "f32" | "f64"; mutable?: boolean },
      value?: number | bigint,
    );
    value: number | bigint;
  }

  class RuntimeError extends Error {}
  class CompileError extends Error {}
  class LinkError extends Error {}

  function validate(bytes: Uint8Array<ArrayBuffer>): boolean;
}
