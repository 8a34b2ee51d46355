import { Cause, Exit, Runtime } from "effect"

/**
 * Exit codes for `NodeRuntime.runMain`: a stop by SIGTERM or SIGINT ends in an
 * interruption, which effect reports as 130; for a server that is the normal,
 * graceful way to stop, so it exits 0 and supervisors (systemd, Docker,
 * Kubernetes) do not count it as a crash. Failures keep effect's codes.
 */
export const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)
