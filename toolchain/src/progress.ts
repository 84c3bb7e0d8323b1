// Progress reporting for long steps: timed lines on stderr, or nothing (tests).

export type Progress = {
  /** Runs `work`, reporting its label and how long it took. */
  step<T>(label: string, work: () => Promise<T>): Promise<T>;
  note(text: string): void;
  /** A progress that prefixes every label (e.g. with the contract name). */
  scoped(prefix: string): Progress;
};

export function silentProgress(): Progress {
  const progress: Progress = {
    step: (_label, work) => work(),
    note: () => {},
    scoped: () => progress,
  };
  return progress;
}

export function stderrProgress(prefix = ""): Progress {
  return {
    async step(label, work) {
      const started = performance.now();
      process.stderr.write(`${prefix}${label} ...\n`);
      const result = await work();
      process.stderr.write(
        `${prefix}${label} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      );
      return result;
    },
    note(text) {
      process.stderr.write(`${prefix}${text}\n`);
    },
    scoped(inner) {
      return stderrProgress(`${prefix}${inner}: `);
    },
  };
}
