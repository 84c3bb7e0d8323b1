/** The part of autocannon 8's programmatic API the search bench uses (the package has no types). */
declare module "autocannon" {
  interface Histogram {
    average: number;
    total: number;
    p50: number;
    p99: number;
  }
  interface Options {
    url: string;
    connections: number;
    duration: number;
    requests: { method: string; path: string }[];
    warmup?: { connections: number; duration: number };
  }
  interface Result {
    requests: Histogram;
    latency: Histogram;
    throughput: Histogram;
    errors: number;
    non2xx: number;
  }
  export default function autocannon(options: Options): Promise<Result>;
}
