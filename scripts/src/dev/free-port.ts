/** Free TCP ports on 127.0.0.1 right now (for services that need a fixed port before they start). */
import { createServer } from "node:net";

function listenOn(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(null));
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : null));
    });
  });
}

export async function freePort(): Promise<number> {
  const port = await listenOn(0);
  if (port === null) throw new Error("no free TCP port on 127.0.0.1");
  return port;
}

/** The first of `count` consecutive free ports (the demo agents take one per provider). */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await freePort();
    if (first + count > 65536) continue;
    let all = true;
    for (let i = 1; i < count && all; i++) all = (await listenOn(first + i)) !== null;
    if (all) return first;
  }
  throw new Error(`no ${count} consecutive free TCP ports on 127.0.0.1`);
}
