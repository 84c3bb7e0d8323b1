/**
 * InvalidTxError (transaction rejected before it becomes a receipt) and ActionError (a receipt's
 * action failed) in nearcore's RPC JSON form, with nearcore's Display messages.
 * u64 fields are JSON numbers and u128 fields decimal strings, as nearcore serializes them.
 */
import type { InvalidTxError } from "./types.ts";

type Fields = Record<string, unknown>;

const q = (v: unknown): string => JSON.stringify(v);

function accessKeyMessage(kind: string, f: Fields): string {
  switch (kind) {
    case "AccessKeyNotFound":
      return `Signer ${q(f.account_id)} doesn't have access key with the given public_key ${f.public_key}`;
    case "ReceiverMismatch":
      return `Transaction receiver_id ${q(f.tx_receiver)} doesn't match the access key receiver_id ${q(f.ak_receiver)}`;
    case "MethodNameMismatch":
      return `Transaction method name ${q(f.method_name)} isn't allowed by the access key`;
    case "RequiresFullAccess":
      return "Invalid access key type. Full-access keys are required for transactions that have multiple or non-function-call actions";
    case "NotEnoughAllowance":
      return `Access Key ${q(f.account_id)}:${f.public_key} does not have enough balance ${f.allowance} for transaction costing ${f.cost}`;
    case "DepositWithFunctionCall":
      return "Having a deposit with a function call action is not allowed with a function call access key.";
    default:
      return kind;
  }
}

function actionsValidationMessage(kind: string, f: Fields): string {
  switch (kind) {
    case "DeleteActionMustBeFinal":
      return "The delete action must be the final action in transaction";
    case "TotalPrepaidGasExceeded":
      return `The total prepaid gas ${f.total_prepaid_gas} exceeds the limit ${f.limit}`;
    case "TotalNumberOfActionsExceeded":
      return `The total number of actions ${f.total_number_of_actions} exceeds the limit ${f.limit}`;
    case "AddKeyMethodNamesNumberOfBytesExceeded":
      return `The total number of bytes in allowed method names ${f.total_number_of_bytes} exceeds the maximum allowed number ${f.limit} in a AddKey action`;
    case "AddKeyMethodNameLengthExceeded":
      return `The length of some method name ${f.length} exceeds the maximum allowed length ${f.limit} in a AddKey action`;
    case "IntegerOverflow":
      return "Integer overflow during a compute";
    case "InvalidAccountId":
      return `Invalid account ID \`${f.account_id}\``;
    case "ContractSizeExceeded":
      return `The length of the contract size ${f.size} exceeds the maximum allowed size ${f.limit} in a DeployContract action`;
    case "FunctionCallMethodNameLengthExceeded":
      return `The length of the method name ${f.length} exceeds the maximum allowed length ${f.limit} in a FunctionCall action`;
    case "FunctionCallArgumentsLengthExceeded":
      return `The length of the arguments ${f.length} exceeds the maximum allowed length ${f.limit} in a FunctionCall action`;
    case "UnsuitableStakingKey":
      return `The staking key must be ristretto compatible ED25519 key. ${f.public_key} is provided instead.`;
    case "FunctionCallZeroAttachedGas":
      return "The attached amount of gas in a FunctionCall action has to be a positive number.";
    case "DelegateActionMustBeOnlyOne":
      return "The actions can contain the ony one DelegateAction";
    default:
      return kind;
  }
}

function invalidTxMessage(kind: string, f: Fields): string {
  switch (kind) {
    case "InvalidAccessKeyError": {
      const [inner, innerFields] = unwrap(f.inner);
      return accessKeyMessage(inner, innerFields);
    }
    case "InvalidSignerId":
      return `Invalid signer account ID ${q(f.signer_id)} according to requirements`;
    case "SignerDoesNotExist":
      return `Signer ${q(f.signer_id)} does not exist`;
    case "InvalidNonce":
      return `Transaction nonce ${f.tx_nonce} must be larger than nonce of the used access key ${f.ak_nonce}`;
    case "NonceTooLarge":
      return `Transaction nonce ${f.tx_nonce} must be smaller than the access key nonce upper bound ${f.upper_bound}`;
    case "InvalidReceiverId":
      return `Invalid receiver account ID ${q(f.receiver_id)} according to requirements`;
    case "InvalidSignature":
      return "Transaction is not signed with the given public key";
    case "NotEnoughBalance":
      return `Sender ${q(f.signer_id)} does not have enough balance ${f.balance} for operation costing ${f.cost}`;
    case "LackBalanceForState":
      return `Failed to execute, because the account ${q(f.signer_id)} wouldn't have enough balance to cover storage, required to have ${f.amount} yoctoNEAR more`;
    case "CostOverflow":
      return "Transaction gas or balance cost is too high";
    case "InvalidChain":
      return "Transaction parent block hash doesn't belong to the current chain";
    case "Expired":
      return "Transaction has expired";
    case "ActionsValidation": {
      const [inner, innerFields] = unwrap(f.inner);
      return `Transaction actions validation error: ${actionsValidationMessage(inner, innerFields)}`;
    }
    case "TransactionSizeExceeded":
      return `Size of serialized transaction ${f.size} exceeded the limit ${f.limit}`;
    case "InvalidTransactionVersion":
      return "Transaction version is invalid";
    default:
      return kind;
  }
}

/** A nested error view: "Unit" or { Name: fields }. */
export type ErrorView = string | Record<string, unknown>;

function unwrap(view: unknown): [string, Fields] {
  if (typeof view === "string") return [view, {}];
  const entry = Object.entries(view as Fields)[0];
  if (entry === undefined) return ["Unknown", {}];
  return [entry[0], (entry[1] ?? {}) as Fields];
}

/** Builds a nested variant view: unit variants (no fields) serialize as a bare string. */
export function variant(kind: string, fields: Fields | null): ErrorView {
  return fields === null ? kind : { [kind]: fields };
}

export class RuntimeInvalidTxError extends Error implements InvalidTxError {
  readonly view: InvalidTxError["view"];
  constructor(view: InvalidTxError["view"], message: string) {
    super(message);
    this.name = "InvalidTxError";
    this.view = view;
  }
}

/**
 * InvalidTxError with fields (`{}` or null for unit variants such as InvalidSignature, Expired,
 * CostOverflow, InvalidTransactionVersion).
 */
export function invalidTx(kind: string, fields: Fields | null): RuntimeInvalidTxError {
  const unit = fields === null || Object.keys(fields).length === 0;
  const view = unit ? kind : { [kind]: fields };
  return new RuntimeInvalidTxError(view, invalidTxMessage(kind, fields ?? {}));
}

export function invalidAccessKey(kind: string, fields: Fields | null): RuntimeInvalidTxError {
  const inner = variant(kind, fields);
  return new RuntimeInvalidTxError(
    { InvalidAccessKeyError: inner },
    accessKeyMessage(kind, fields ?? {}),
  );
}

export function actionsValidation(inner: ErrorView): RuntimeInvalidTxError {
  const [kind, fields] = unwrap(inner);
  return new RuntimeInvalidTxError(
    { ActionsValidation: inner },
    `Transaction actions validation error: ${actionsValidationMessage(kind, fields)}`,
  );
}

/** nearcore's ActionError view: { index, kind } (index null for post-action checks). */
export interface ActionErrorView {
  index: number | null;
  kind: ErrorView;
}

export function actionError(
  index: number | null,
  kind: string,
  fields: Fields | null,
): ActionErrorView {
  return { index, kind: variant(kind, fields) };
}

/** The TxExecutionError view of a failed receipt, as outcome.status.Failure carries it. */
export function actionFailure(e: ActionErrorView): Record<string, unknown> {
  return { ActionError: { index: e.index, kind: e.kind } };
}
