/** Routing: /v1/models, /v1/models/{id}, /v1/chat/completions, /health; errors as OpenAI's. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ChatState, handleChatCompletion, shuttingDown } from "./chat.ts";
import { ApiError } from "./errors.ts";
import { sendError, sendJson } from "./http-io.ts";

export interface ServerState extends ChatState {
  weightsSha256: string;
  /** Unix seconds the model was loaded. */
  created: number;
}

function modelCard(state: ServerState) {
  return {
    id: state.modelName,
    object: "model",
    created: state.created,
    owned_by: "gpu-market",
    weights_sha256: state.weightsSha256,
    context_length: state.backend.contextSize,
  };
}

function health(state: ServerState) {
  return {
    status: state.shutdown.aborted ? "shutting_down" : "ok",
    model: state.modelName,
    weights_sha256: state.weightsSha256,
    running: state.queue.running,
    queued: state.queue.queued,
    max_queued: state.queue.maxWaiting,
  };
}

function requireMethod(req: IncomingMessage, method: "GET" | "POST"): void {
  if (req.method !== method) {
    throw new ApiError(405, `${req.method} is not allowed here; use ${method}`, {
      code: "method_not_allowed",
      headers: { allow: method },
    });
  }
}

/** A %-encoded path segment; a malformed one is kept as sent (it then matches no model). */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function route(state: ServerState, req: IncomingMessage, res: ServerResponse) {
  const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "");
  if (path === "/v1/chat/completions") {
    requireMethod(req, "POST");
    if (state.shutdown.aborted) {
      throw shuttingDown();
    }
    await handleChatCompletion(state, req, res);
    return;
  }
  if (path === "/v1/models") {
    requireMethod(req, "GET");
    sendJson(res, 200, { object: "list", data: [modelCard(state)] });
    return;
  }
  if (path.startsWith("/v1/models/")) {
    requireMethod(req, "GET");
    const id = decodePathSegment(path.slice("/v1/models/".length));
    if (id !== state.modelName) {
      throw new ApiError(
        404,
        `the model "${id}" does not exist; this server serves "${state.modelName}"`,
        {
          type: "not_found_error",
          param: "model",
          code: "model_not_found",
        },
      );
    }
    sendJson(res, 200, modelCard(state));
    return;
  }
  if (path === "/health") {
    requireMethod(req, "GET");
    sendJson(res, state.shutdown.aborted ? 503 : 200, health(state));
    return;
  }
  throw new ApiError(404, `no route for ${path}`, { type: "not_found_error", code: "not_found" });
}

export function createHandler(state: ServerState) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      await route(state, req, res);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const apiError =
        error instanceof ApiError
          ? error
          : new ApiError(500, `internal error: ${(error as Error).message}`);
      sendError(res, apiError);
    }
  };
}
