/**
 * An append-only file of records, each durable (fdatasync) before append returns:
 *
 *   header  magic "LNCHAIN\0" | format version u32 LE | identity (32 bytes) | crc32 of the above u32 LE
 *   record  payload length u32 LE | crc32(payload) u32 LE | payload
 *
 * The identity ties the log to what it was written for (the node passes a hash of the genesis), so
 * a log is never read against another chain. A crash can leave the last record torn (cut short, or
 * length and checksum not matching its bytes): opening drops it and truncates the file there. A bad
 * record followed by more data is corruption, not a crash, and opening refuses it.
 */
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { crc32 } from "node:zlib";

const MAGIC = Buffer.from("LNCHAIN\0", "latin1");
const HEADER_BYTES = MAGIC.length + 4 + 32 + 4;
const FRAME_BYTES = 8;
/** Larger payloads are refused on write, so a length field above it marks garbage on read. */
const MAX_RECORD_BYTES = 1 << 30;

export class ChainLogError extends Error {}

export interface OpenedLog {
  log: ChainLog;
  /** Payloads already in the file, oldest first (views into one buffer). */
  records: Uint8Array[];
  /** Bytes of a torn last record that opening dropped (0 when the file ended cleanly). */
  droppedBytes: number;
}

function header(version: number, identity: Uint8Array): Buffer {
  if (identity.length !== 32) throw new Error("the chain log identity must be 32 bytes");
  const out = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(version, MAGIC.length);
  out.set(identity, MAGIC.length + 4);
  out.writeUInt32LE(crc32(out.subarray(0, HEADER_BYTES - 4)), HEADER_BYTES - 4);
  return out;
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let offset = 0;
  while (offset < bytes.length) {
    offset += writeSync(fd, bytes, offset, bytes.length - offset, position + offset);
  }
}

/** Writes a log holding only its header; the rename makes a half-written header impossible. */
function create(path: string, version: number, identity: Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, "w");
  try {
    writeAll(fd, header(version, identity), 0);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

function checkHeader(path: string, bytes: Buffer, version: number, identity: Uint8Array): void {
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ChainLogError(`${path} is not a localnet chain log (no "LNCHAIN" header)`);
  }
  if (bytes.readUInt32LE(HEADER_BYTES - 4) !== crc32(bytes.subarray(0, HEADER_BYTES - 4))) {
    throw new ChainLogError(`${path}: the header checksum does not match (corrupt file)`);
  }
  const found = bytes.readUInt32LE(MAGIC.length);
  if (found !== version) {
    throw new ChainLogError(
      `${path} was written in chain log format ${found}; this localnet reads format ${version}. ` +
        "Run the localnet version that wrote it, or delete the file to start a new chain.",
    );
  }
  if (!bytes.subarray(MAGIC.length + 4, MAGIC.length + 36).equals(identity)) {
    throw new ChainLogError(
      `${path} belongs to another chain than this home's genesis.json (genesis changed since it was written)`,
    );
  }
}

/** Splits the records after the header; returns where the valid part ends. */
function scan(path: string, bytes: Buffer): { records: Uint8Array[]; end: number } {
  const records: Uint8Array[] = [];
  let offset = HEADER_BYTES;
  while (offset < bytes.length) {
    const rest = bytes.length - offset;
    const length = rest >= 4 ? bytes.readUInt32LE(offset) : 0;
    const bodyEnd = offset + FRAME_BYTES + length;
    const reachesEnd = rest < FRAME_BYTES || bodyEnd >= bytes.length;
    const intact =
      rest >= FRAME_BYTES &&
      length > 0 &&
      length <= MAX_RECORD_BYTES &&
      bodyEnd <= bytes.length &&
      bytes.readUInt32LE(offset + 4) === crc32(bytes.subarray(offset + FRAME_BYTES, bodyEnd));
    if (!intact) {
      // Only the last record can be torn by a crash; zeros after it are a file grown but not written.
      if (reachesEnd || bytes.subarray(offset).every((b) => b === 0)) break;
      throw new ChainLogError(
        `${path}: record ${records.length + 1} at byte ${offset} is corrupt (length or checksum does not match) and more records follow`,
      );
    }
    records.push(bytes.subarray(offset + FRAME_BYTES, bodyEnd));
    offset = bodyEnd;
  }
  return { records, end: offset };
}

export class ChainLog {
  readonly path: string;
  #fd: number | null;
  /** Where the next record goes: the end of the last valid one. */
  #end: number;

  private constructor(path: string, fd: number, end: number) {
    this.path = path;
    this.#fd = fd;
    this.#end = end;
  }

  /**
   * Opens the log at `path`, creating it when missing. Throws ChainLogError when the file is not a
   * chain log of this `version` and `identity`, or is corrupt before its last record.
   */
  static open(path: string, version: number, identity: Uint8Array): OpenedLog {
    if (!existsSync(path)) create(path, version, identity);
    const bytes = readFileSync(path);
    checkHeader(path, bytes, version, identity);
    const { records, end } = scan(path, bytes);
    const fd = openSync(path, "r+");
    if (end < bytes.length) {
      ftruncateSync(fd, end);
      fdatasyncSync(fd);
    }
    if (fstatSync(fd).size !== end) {
      closeSync(fd);
      throw new ChainLogError(`${path} changed while it was being opened`);
    }
    return { log: new ChainLog(path, fd, end), records, droppedBytes: bytes.length - end };
  }

  /** Appends one record; it is on disk when this returns. */
  append(payload: Uint8Array): void {
    if (this.#fd === null) throw new Error(`${this.path} is closed`);
    if (payload.length === 0 || payload.length > MAX_RECORD_BYTES) {
      throw new Error(`a chain log record must hold 1 to ${MAX_RECORD_BYTES} bytes`);
    }
    const frame = Buffer.alloc(FRAME_BYTES + payload.length);
    frame.writeUInt32LE(payload.length, 0);
    frame.writeUInt32LE(crc32(payload), 4);
    frame.set(payload, FRAME_BYTES);
    writeAll(this.#fd, frame, this.#end);
    fdatasyncSync(this.#fd);
    this.#end += frame.length;
  }

  close(): void {
    if (this.#fd === null) return;
    closeSync(this.#fd);
    this.#fd = null;
  }
}
