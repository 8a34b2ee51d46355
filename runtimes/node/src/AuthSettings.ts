import { randomBytes } from "node:crypto"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Data, Effect, Option, Redacted } from "effect"
import { AuthConfig } from "@shop/auth/AuthConfig"
import * as Traced from "@shop/domain/Traced"
import { DataDir } from "./DataDir.ts"

export class SecretError extends Data.TaggedError("SecretError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

// HS256 is only as strong as its key: RFC 7518 asks for at least 256 bits.
const minJwtSecretLength = 32

export const jwtSecretFile = "jwt-secret"

const isErrno = (cause: unknown, code: string) =>
  typeof cause === "object" && cause !== null && "code" in cause && cause.code === code

const checkLength = (path: string) => (text: string) =>
  text.length >= minJwtSecretLength
    ? Effect.succeed(text)
    : Effect.fail(
        new SecretError({ message: `The JWT secret in ${path} is too short; delete the file to generate a new one` })
      )

// None when the file does not exist yet.
const readSecret = (path: string): Effect.Effect<Option.Option<string>, SecretError> =>
  Effect.try({
    try: () => Option.some(readFileSync(path, "utf8").trim()),
    catch: (cause) => cause
  }).pipe(
    Effect.catchIf(
      (cause) => isErrno(cause, "ENOENT"),
      () => Effect.succeed(Option.none<string>())
    ),
    Effect.mapError((cause) => new SecretError({ message: `Cannot read the JWT secret in ${path}`, cause })),
    Effect.flatMap((text) => Effect.transposeOption(Option.map(text, checkLength(path))))
  )

// `wx` refuses to overwrite: when two processes start at once on the same
// folder, the loser reads the winner's secret instead of replacing it.
const writeSecret = (path: string, secret: string) =>
  Effect.try({
    try: () => writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: "wx" }),
    catch: (cause) => cause
  }).pipe(
    Effect.as(true),
    Effect.catchIf(
      (cause) => isErrno(cause, "EEXIST"),
      () => Effect.succeed(false)
    ),
    Effect.mapError((cause) => new SecretError({ message: `Cannot write the JWT secret to ${path}`, cause }))
  )

/**
 * The JWT secret kept in the data directory when JWT_SECRET is not set: made once
 * (32 random bytes) and reused on later starts, so tokens survive a restart.
 */
export const persistedJwtSecret = Traced.fn("AuthSettings.persistedJwtSecret")(function* (dataDir: string) {
  const path = join(dataDir, jwtSecretFile)
  const existing = yield* readSecret(path)
  if (Option.isSome(existing)) {
    yield* Effect.logWarning(`JWT_SECRET is not set: using the secret generated earlier in ${path}`)
    return Redacted.make(existing.value)
  }
  const created = yield* writeSecret(path, randomBytes(32).toString("base64url"))
  const secret = yield* readSecret(path)
  if (Option.isNone(secret)) return yield* new SecretError({ message: `The JWT secret in ${path} disappeared` })
  yield* Effect.logWarning(
    created
      ? `JWT_SECRET is not set: generated a random secret and saved it in ${path} (set JWT_SECRET in production)`
      : `JWT_SECRET is not set: using the secret another process just generated in ${path}`
  )
  return Redacted.make(secret.value)
})

/**
 * AuthConfig as every runtime reads it (@shop/auth/AuthConfig), plus what only
 * this runtime has: when JWT_SECRET is unset, the secret generated and kept in
 * DATA_DIR.
 */
export const layer = AuthConfig.layerConfigWith(
  Effect.gen(function* () {
    return yield* persistedJwtSecret(yield* DataDir)
  })
)
