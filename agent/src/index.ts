/** @gpu-market/agent: the provider agent (README.md), as a library for the gpu-market CLI and tests. */
export { Agent, type AgentOptions, type JobView, type PublicStatus } from "./agent.ts";
export { type Backend, BackendError, OpenAiBackend } from "./backend/openai.ts";
export { providerCommand } from "./cli.ts";
export { parseCommand, parseRetainDays, type RunConfig, USAGE } from "./config.ts";
export { AgentError } from "./errors.ts";
export { type RunningProvider, startProvider } from "./runtime.ts";
export {
  type SessionErrorCode,
  SessionRefusal,
  SessionService,
  type SessionView,
} from "./sessions/service.ts";
