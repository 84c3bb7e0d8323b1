/**
 * dao: proposals, votes, delegation, queue, execute, cancel, list and show on the governance
 * contract. An upgrade proposal rebuilds the target's source and refuses to go on if the hash
 * differs from the staged blob it names; with `stage` it stores the rebuilt blob first.
 */
import type {
  ProposalAction,
  ProposalView,
  Vote,
} from "@gpu-market/common/src/governance-types.ts";
import { type Artifact, type ContractName, rebuild } from "../artifacts.ts";
import { CliError, usageError } from "../errors.ts";
import { type Io, step } from "../io.ts";
import type { Chain } from "../near.ts";
import { TGAS, YOCTO_PER_NEAR } from "../units.ts";

export interface DaoTarget {
  chain: Chain;
  governance: string;
}

/** What a proposal asks for, before the contract checks it. */
export type ProposalRequest =
  | { kind: "upgrade"; contract: ContractName; target: string; codeSha256?: string; stage: boolean }
  | { kind: "actions"; actions: unknown[] };

export interface ProposeOptions extends DaoTarget {
  proposer: string;
  description: string;
  request: ProposalRequest;
  /** Rebuilds a contract from source (injectable: tests and callers with their own build). */
  build?: (name: ContractName, io: Io) => Promise<Artifact>;
}

const PROPOSE_DEPOSIT = YOCTO_PER_NEAR / 10n;
const VOTE_DEPOSIT = YOCTO_PER_NEAR / 100n;
/** Storage of a staged blob: its bytes at 1e19 yoctoNEAR each, plus room for its record. */
const BYTE_COST = 10n ** 19n;

interface BlobInfo {
  code_sha256: string;
  size: number;
}

async function defaultBuild(name: ContractName, io: Io): Promise<Artifact> {
  const [artifact] = await rebuild([name], io);
  if (artifact === undefined) throw new CliError(`the build produced no ${name}`);
  return artifact;
}

/** Rebuilds the target, checks the staged blob against it, stages it if asked; the action. */
async function upgradeAction(
  options: ProposeOptions,
  request: Extract<ProposalRequest, { kind: "upgrade" }>,
  io: Io,
): Promise<ProposalAction | Record<string, unknown>> {
  const build = options.build ?? defaultBuild;
  const artifact = await step(io, `rebuilding ${request.contract} from source`, () =>
    build(request.contract, io),
  );
  io.line(
    `rebuilt ${request.contract}: sha256 ${artifact.sha256} (code hash ${artifact.codeHash})`,
  );
  if (request.codeSha256 !== undefined && request.codeSha256 !== artifact.sha256) {
    throw new CliError(
      `the staged blob ${request.codeSha256} is not what the source builds (${artifact.sha256}); refusing to propose it`,
      {
        hint: "check out the source that was staged and rebuild, or stage this build with --stage",
      },
    );
  }
  const { chain, governance } = options;
  const staged = await chain.view<BlobInfo | null>(governance, "blob", {
    code_sha256: artifact.sha256,
  });
  if (staged === null) {
    if (!request.stage) {
      throw new CliError(`no blob with sha256 ${artifact.sha256} is staged on ${governance}`, {
        hint: "add --stage to store the rebuilt wasm (its storage is paid by you) and propose it",
      });
    }
    await step(io, `staging ${artifact.wasm.length} bytes on ${governance}`, () =>
      chain.call(options.proposer, governance, "store_blob", artifact.wasm, {
        deposit: BigInt(artifact.wasm.length + 2000) * BYTE_COST,
        gas: 200n * TGAS,
      }),
    );
  } else if (staged.size !== artifact.wasm.length) {
    throw new CliError(
      `the staged blob ${artifact.sha256} has ${staged.size} bytes, not ${artifact.wasm.length}`,
    );
  }
  return request.contract === "governance"
    ? { kind: "upgrade_self", code_sha256: artifact.sha256 }
    : { kind: "upgrade", target: request.target, code_sha256: artifact.sha256 };
}

export async function propose(options: ProposeOptions, io: Io): Promise<ProposalView> {
  const actions =
    options.request.kind === "upgrade"
      ? [await upgradeAction(options, options.request, io)]
      : options.request.actions;
  if (actions.length === 0) throw usageError("a proposal needs at least one action");
  const created = await step(io, "creating the proposal", () =>
    options.chain.call<ProposalView>(
      options.proposer,
      options.governance,
      "propose",
      { description: options.description, actions },
      { deposit: PROPOSE_DEPOSIT },
    ),
  );
  const view = await show(options, created.value.id);
  io.line(
    `proposal ${view.id} created: voting from height ${view.snapshot_height + 1} to ${view.vote_end_height}`,
  );
  io.result(view);
  return view;
}

export async function vote(
  options: DaoTarget & { voter: string; proposalId: number; support: string; reason?: string },
  io: Io,
): Promise<Vote> {
  if (!["for", "against", "abstain"].includes(options.support)) {
    throw usageError(`support: "${options.support}" is not for, against or abstain`);
  }
  const cast = await options.chain.call<Vote>(
    options.voter,
    options.governance,
    "vote",
    {
      proposal_id: options.proposalId,
      support: options.support,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
    },
    { deposit: VOTE_DEPOSIT },
  );
  io.line(
    `${options.voter} voted ${cast.value.support} on proposal ${options.proposalId} with ${cast.value.weight}`,
  );
  io.result(cast.value);
  return cast.value;
}

export async function delegate(
  options: DaoTarget & { account: string; delegatee: string },
  io: Io,
): Promise<string> {
  const done = await options.chain.call<string>(
    options.account,
    options.governance,
    "delegate",
    { delegatee: options.delegatee },
    { deposit: 1n },
  );
  const votes = await options.chain.view<string>(options.governance, "get_votes", {
    account_id: options.delegatee,
  });
  io.line(
    `${options.account} delegates to ${done.value}; ${options.delegatee} now has ${votes} votes`,
  );
  io.result({ delegator: options.account, delegatee: done.value, votes });
  return done.value;
}

type Transition = "queue" | "execute" | "cancel";

export async function transition(
  options: DaoTarget & { account: string; proposalId: number; action: Transition },
  io: Io,
): Promise<ProposalView> {
  await step(io, `${options.action} proposal ${options.proposalId}`, () =>
    options.chain.call(
      options.account,
      options.governance,
      options.action,
      { proposal_id: options.proposalId },
      // A failed action is recorded on the proposal (status failed, retryable), shown below.
      options.action === "execute"
        ? { gas: 300n * TGAS, handlesReceiptFailures: true }
        : { gas: 50n * TGAS },
    ),
  );
  const view = await show(options, options.proposalId);
  io.line(`proposal ${view.id}: ${view.status}${view.failure ? ` (${view.failure})` : ""}`);
  io.result(view);
  return view;
}

export function show(options: DaoTarget, proposalId: number): Promise<ProposalView> {
  return options.chain.view<ProposalView>(options.governance, "proposal", {
    proposal_id: proposalId,
  });
}

export async function showProposal(
  options: DaoTarget & { proposalId: number },
  io: Io,
): Promise<ProposalView> {
  const view = await show(options, options.proposalId);
  io.line(describe(view));
  for (const [i, action] of view.actions.entries())
    io.line(`  action ${i}: ${JSON.stringify(action)}`);
  io.result(view);
  return view;
}

export async function listProposals(
  options: DaoTarget & { from: number; limit: number },
  io: Io,
): Promise<ProposalView[]> {
  const views = await options.chain.view<ProposalView[]>(options.governance, "proposals", {
    from_index: options.from,
    limit: options.limit,
  });
  if (views.length === 0) io.line("no proposals");
  for (const view of views) io.line(describe(view));
  io.result(views);
  return views;
}

function describe(view: ProposalView): string {
  return `#${view.id} ${view.status.padEnd(9)} by ${view.proposer}: ${view.description.split("\n")[0]} (for ${view.votes_for}, against ${view.votes_against}, abstain ${view.votes_abstain}; quorum ${view.quorum})`;
}
