/**
 * Which registered machines this agent serves, checked at start: a machine is served when its
 * current keyset's keys are among the agent's key files. Its attested keyset must be the one these
 * keys, this account and this registry spell (keyset_sha256), and every model the agent loaded
 * under a name the keyset lists must have the weights the keyset lists: a receipt is never signed
 * for weights other than the attested ones. Evidence files are matched to machines by their hash.
 */
import { keysetSha256, type ModelEntry, sha256Hex } from "@gpu-market/protocol";
import type { RegistryMachine } from "./chain/registry.ts";
import { AgentError } from "./errors.ts";
import type { MachineKeys } from "./keys/machine-key-file.ts";

export interface ServedMachine {
  id: string;
  keyset_sha256: string;
  signing_key: string;
  encryption_key: string;
  /** The keyset's models this agent serves. */
  models: ModelEntry[];
  /** The keyset's models this agent does not serve (jobs for them fail with model_unavailable). */
  missing: string[];
  evidence: Uint8Array | null;
}

export interface MachinePlan {
  machines: ServedMachine[];
  warnings: string[];
}

export function planMachines(options: {
  account: string;
  registry: string;
  keys: MachineKeys[];
  registered: RegistryMachine[];
  served: ModelEntry[];
  evidence: { path: string; bytes: Uint8Array }[];
}): MachinePlan {
  const warnings: string[] = [];
  const machines: ServedMachine[] = [];
  const evidenceByHash = new Map(options.evidence.map((e) => [sha256Hex(e.bytes), e]));
  const usedEvidence = new Set<string>();
  for (const keys of options.keys) {
    const registered = keys.registered;
    if (
      registered !== undefined &&
      (registered.account !== options.account || registered.registry !== options.registry)
    ) {
      throw new AgentError(
        `machine key ${keys.signingKey} was registered by ${registered.account} in ${registered.registry}, not by ${options.account} in ${options.registry}`,
        {
          hint: "pass --account and --registry (or --deployment) of the registration, or the key file of this account's machine",
        },
      );
    }
    const matching = options.registered.filter(
      (m) => m.machine_public_key === keys.signingKey && m.encryption_key === keys.encryptionKey,
    );
    if (matching.length === 0) {
      warnings.push(
        `machine key ${keys.signingKey} is not the current keyset of any machine of ${options.account} (a keyset awaiting attestation, or not registered): its jobs are served once it is`,
      );
    }
    for (const machine of matching) {
      if (machine.keyset_sha256 === null || machine.models === null) {
        throw new AgentError(`machine ${machine.id} has no keyset in ${options.registry}`, {
          hint: "register the machine again with its encryption key and models (register-provider)",
        });
      }
      const expected = keysetSha256({
        account: options.account,
        registry: options.registry,
        signing_key: keys.signingKey,
        encryption_key: keys.encryptionKey,
        models: machine.models,
      });
      if (expected !== machine.keyset_sha256) {
        throw new AgentError(
          `machine ${machine.id}: the registry's keyset_sha256 ${machine.keyset_sha256} is not the keyset of these keys and models (${expected})`,
        );
      }
      const models: ModelEntry[] = [];
      const missing: string[] = [];
      for (const entry of machine.models) {
        const loaded = options.served.find((m) => m.name === entry.name);
        if (loaded === undefined) {
          missing.push(entry.name);
        } else if (loaded.weights_sha256 !== entry.weights_sha256) {
          throw new AgentError(
            `--model ${entry.name}: the weights file hashes to ${loaded.weights_sha256}, but machine ${machine.id}'s attested keyset lists ${entry.weights_sha256}`,
            {
              hint: "give the weights file the machine was registered with, or register the new weights (a new keyset)",
            },
          );
        } else {
          models.push(entry);
        }
      }
      if (missing.length > 0) {
        warnings.push(
          `machine ${machine.id}: no --model for ${missing.join(", ")}; its jobs for them fail with model_unavailable`,
        );
      }
      const evidence =
        machine.evidence === null ? undefined : evidenceByHash.get(machine.evidence.hash);
      if (evidence !== undefined && machine.evidence !== null)
        usedEvidence.add(machine.evidence.hash);
      machines.push({
        id: machine.id,
        keyset_sha256: machine.keyset_sha256,
        signing_key: keys.signingKey,
        encryption_key: keys.encryptionKey,
        models,
        missing,
        evidence: evidence?.bytes ?? null,
      });
    }
  }
  if (machines.length === 0) {
    throw new AgentError(
      `none of the machine key files is the current keyset of a machine of ${options.account} in ${options.registry}`,
      {
        hint: "register the machine first (gpu-market register-provider), and pass the key file it wrote",
      },
    );
  }
  for (const [hash, file] of evidenceByHash) {
    if (!usedEvidence.has(hash)) {
      warnings.push(
        `--evidence-file ${file.path}: its sha256 ${hash} is no served machine's evidence`,
      );
    }
  }
  for (const model of options.served) {
    if (!machines.some((m) => m.models.some((e) => e.name === model.name))) {
      warnings.push(`--model ${model.name}: no served machine's keyset lists it`);
    }
  }
  return { machines: machines.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1)), warnings };
}
