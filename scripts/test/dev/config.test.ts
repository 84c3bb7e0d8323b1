import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { agentPorts, devConfig, devPaths } from "../../src/dev/config.ts";

describe("npm start settings", () => {
  it("defaults to fixed local ports and the repository's .data folder", () => {
    const config = devConfig({}, "/repo");
    expect(config).toMatchObject({
      host: "127.0.0.1",
      rpcPort: 3030,
      apiPort: 3040,
      pgPort: 54340,
      dataDir: join("/repo", ".data"),
      blockIntervalMs: 1000,
      seed: true,
    });
    expect(devPaths(config).localnetHome).toBe(join("/repo", ".data", "localnet"));
  });

  it("takes ports, data folder and seeding from the environment", () => {
    const config = devConfig(
      {
        GPU_MARKET_RPC_PORT: "4030",
        GPU_MARKET_API_PORT: "4040",
        GPU_MARKET_PG_PORT: "4050",
        GPU_MARKET_DATA_DIR: "/tmp/market",
        GPU_MARKET_BLOCK_MS: "250",
        GPU_MARKET_SEED: "0",
      },
      "/repo",
    );
    expect(config).toMatchObject({
      rpcPort: 4030,
      apiPort: 4040,
      pgPort: 4050,
      dataDir: "/tmp/market",
      blockIntervalMs: 250,
      seed: false,
    });
  });

  it("names the variable that is wrong", () => {
    expect(() => devConfig({ GPU_MARKET_API_PORT: "http" })).toThrow(
      'GPU_MARKET_API_PORT: must be a port number from 1 to 65535, got "http"',
    );
    expect(() => devConfig({ GPU_MARKET_RPC_PORT: "70000" })).toThrow(/GPU_MARKET_RPC_PORT/);
    expect(() => devConfig({ GPU_MARKET_BLOCK_MS: "10" })).toThrow(
      /GPU_MARKET_BLOCK_MS.*at least 100/,
    );
    expect(() => devConfig({ GPU_MARKET_SEED: "yes" })).toThrow(/GPU_MARKET_SEED: must be 0 or 1/);
    expect(() => devConfig({ GPU_MARKET_API_PORT: "3030" })).toThrow(/must differ, got 3030, 3030/);
    // The agents take one port per demo provider from GPU_MARKET_AGENT_PORT on.
    expect(() => devConfig({ GPU_MARKET_AGENT_PORT: "3048" })).toThrow(
      /agents' ports .* must differ, got 3030, 3040, 54340, 3049, 3048, 3049, 3050/,
    );
    expect(devConfig({})).toMatchObject({ backendPort: 3049, agentPort: 3050 });
    expect(agentPorts(devConfig({ GPU_MARKET_AGENT_PORT: "4000" }))).toEqual([4000, 4001, 4002]);
  });
});
