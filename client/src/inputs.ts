/** Validation of what the caller gives infer(): every field checked, with errors naming it. */
import { type ChatRequest, ProtocolError, parseChatRequest } from "@gpu-market/protocol";
import { clientError } from "./errors.ts";
import type { InferRequest, Payment } from "./types.ts";

const U128_MAX = (1n << 128n) - 1n;
const ACCOUNT_ID = /^(?=.{2,64}$)(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+$/;

export interface InferInputs {
  mode: "session" | "job";
  sessionBudget: bigint;
  sessionSeconds: number;
  model: string;
  /** The chat request without its model name (known once the machine is chosen). */
  chat: Omit<ChatRequest, "model">;
  maxAmount: bigint;
  maxPricePerUnit: bigint | undefined;
  machine: string | undefined;
  acceptWithinNs: bigint;
  deliverWithinNs: bigint;
  payment: Payment;
  verifyAttestation: boolean;
  allowDevMachines: boolean;
  confirm: boolean;
}

/** A u128 given as a decimal string or a BigInt; JS numbers lose precision and are refused. */
export function parseAmount(value: unknown, field: string): bigint {
  let amount: bigint;
  if (typeof value === "bigint") {
    amount = value;
  } else if (typeof value === "string" && /^\d{1,39}$/.test(value)) {
    amount = BigInt(value);
  } else {
    return clientError(
      "bad_input",
      `${field}: expected a whole number of base units (yoctoNEAR) as a decimal string or BigInt, got ${typeof value === "string" ? `"${value}"` : typeof value}`,
    );
  }
  if (amount < 0n || amount > U128_MAX)
    clientError("bad_input", `${field}: ${amount} is not a u128`);
  return amount;
}

function seconds(value: unknown, field: string, fallback: number): bigint {
  if (value === undefined) return BigInt(fallback) * 1_000_000_000n;
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    clientError("bad_input", `${field}: expected a whole number of seconds, got ${String(value)}`);
  }
  return BigInt(value as number) * 1_000_000_000n;
}

export function parsePayment(value: unknown): Payment {
  if (value === undefined) return { from: "attached" };
  const p = value as Partial<Record<string, unknown>>;
  if (p?.from === "attached") return { from: "attached" };
  if (p?.from === "balance") {
    if (p.asset !== undefined && p.asset !== "NEAR" && !ACCOUNT_ID.test(String(p.asset))) {
      clientError(
        "bad_input",
        `payment.asset: "${String(p.asset)}" is neither NEAR nor a token account`,
      );
    }
    return { from: "balance", asset: (p.asset as string | undefined) ?? "NEAR" };
  }
  if (p?.from === "token") {
    if (typeof p.token !== "string" || !ACCOUNT_ID.test(p.token)) {
      clientError("bad_input", `payment.token: "${String(p.token)}" is not a token account`);
    }
    return { from: "token", token: p.token };
  }
  return clientError(
    "bad_input",
    'payment: expected {from: "attached"}, {from: "balance", asset?} or {from: "token", token}',
  );
}

export function parseInferRequest(request: InferRequest): InferInputs {
  if (typeof request !== "object" || request === null) {
    clientError("bad_input", "infer: expected a request object");
  }
  if (typeof request.model !== "string" || request.model === "") {
    clientError("bad_input", "model: expected a model name or its weights sha256");
  }
  let chat: ChatRequest;
  try {
    chat = parseChatRequest({
      // The name is checked again once the machine lists it; a weights hash stands in here.
      model: request.model.slice(0, 64),
      messages: request.messages,
      max_tokens: request.maxTokens,
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.seed === undefined ? {} : { seed: request.seed }),
    });
  } catch (error) {
    if (error instanceof ProtocolError) {
      clientError("bad_input", error.message.replace(/^request\.max_tokens/, "maxTokens"));
    }
    throw error;
  }
  const { model: _name, ...rest } = chat;
  const maxAmount = parseAmount(request.maxAmount, "maxAmount");
  if (maxAmount === 0n) clientError("bad_input", "maxAmount: must be greater than 0");
  if (request.mode !== undefined && request.mode !== "session" && request.mode !== "job") {
    clientError("bad_input", `mode: expected "session" or "job", got ${String(request.mode)}`);
  }
  const sessionBudget =
    request.sessionBudget === undefined
      ? maxAmount * 10n
      : parseAmount(request.sessionBudget, "sessionBudget");
  if (sessionBudget < maxAmount) {
    clientError("bad_input", `sessionBudget: ${sessionBudget} is below maxAmount ${maxAmount}`);
  }
  if (request.machine !== undefined && !/^\d{1,20}$/.test(String(request.machine))) {
    clientError("bad_input", `machine: "${String(request.machine)}" is not a machine id`);
  }
  return {
    mode: request.mode ?? "session",
    sessionBudget,
    sessionSeconds: Number(
      seconds(request.sessionSeconds, "sessionSeconds", 3600) / 1_000_000_000n,
    ),
    model: request.model,
    chat: rest,
    maxAmount,
    maxPricePerUnit:
      request.maxPricePerUnit === undefined
        ? undefined
        : parseAmount(request.maxPricePerUnit, "maxPricePerUnit"),
    machine: request.machine,
    acceptWithinNs: seconds(request.acceptWithinSeconds, "acceptWithinSeconds", 120),
    deliverWithinNs: seconds(request.deliverWithinSeconds, "deliverWithinSeconds", 600),
    payment: parsePayment(request.payment),
    verifyAttestation: request.verifyAttestation === true,
    allowDevMachines: request.allowDevMachines === true,
    confirm: request.confirm !== false,
  };
}
