import { Cause, Config, Effect, Option, Predicate, Redacted, Schema, SchemaIssue } from "effect"

// Building blocks for the settings each service declares in its own package
// (`AuthConfig.layerConfig`, `GatewayConfig.layerConfig`, ...). Every runtime
// reads the same declarations from its own ConfigProvider, so a value means
// the same and is refused the same way everywhere, and a refusal is a
// ConfigError whose path is the setting's name.

/** A ConfigError naming `name`, for a rule a schema cannot say on its own. */
export const refuse = (name: string, message: string): Config.ConfigError =>
  new Config.ConfigError(
    new Schema.SchemaError(new SchemaIssue.Pointer([name], new SchemaIssue.InvalidValue({ message })))
  )

/**
 * A text setting, trimmed. An empty value counts as absent: `ADMIN_SECRET=` in
 * a compose file or `.dev.vars` means "not set", never "the empty string".
 */
export const text = (name: string): Config.Config<Option.Option<string>> =>
  Config.String(name).pipe(
    Config.option,
    Config.map(Option.map((value) => value.trim())),
    Config.map(Option.filter((value) => value.length > 0))
  )

/** An integer setting from `min` to `max`; absent or empty: `fallback`. */
export const int = (name: string, options: { readonly min: number; readonly max: number; readonly fallback: number }) =>
  text(name).pipe(
    Config.mapEffect(
      Option.match({
        onNone: () => Effect.succeed(options.fallback),
        onSome: (value) =>
          /^-?\d{1,16}$/.test(value) && Number(value) >= options.min && Number(value) <= options.max
            ? Effect.succeed(Number(value))
            : Effect.fail(refuse(name, `must be a whole number from ${options.min} to ${options.max}, not "${value}"`))
      })
    )
  )

/** A text setting that `parse` turns into a value, or refuses with `rule` by returning undefined. */
export const parsed = <A>(name: string, parse: (value: string) => A | undefined, rule: string) =>
  text(name).pipe(
    Config.mapEffect(
      Option.match({
        onNone: () => Effect.succeedNone,
        onSome: (value) => {
          const result = parse(value)
          return result === undefined
            ? Effect.fail(refuse(name, `${rule}, not "${value.slice(0, 200)}"`))
            : Effect.succeedSome(result)
        }
      })
    )
  )

/**
 * A secret: redacted, at least `minLength` characters when set; absent, empty
 * or blank: None. Used as given, never trimmed: a key is its exact bytes.
 */
export const secret = (name: string, minLength: number): Config.Config<Option.Option<Redacted.Redacted<string>>> =>
  Config.Redacted(name).pipe(
    Config.option,
    Config.map(Option.filter((value) => Redacted.value(value).trim().length > 0)),
    Config.mapEffect((value) =>
      Option.isSome(value) && Redacted.value(value.value).length < minLength
        ? Effect.fail(refuse(name, `must be at least ${minLength} characters long`))
        : Effect.succeed(value)
    )
  )

/** A secret that must be set; `hint` says how to set it. */
export const requiredSecret = (name: string, minLength: number, hint: string) =>
  secret(name, minLength).pipe(
    Config.mapEffect(
      Option.match({
        onNone: () => Effect.fail(refuse(name, `is required (${hint})`)),
        onSome: Effect.succeed
      })
    )
  )

// "Expected x\n  at [\"NAME\"]" -> "NAME: Expected x"
const oneLine = (error: Config.ConfigError): string => {
  const [first = "", ...rest] = error.cause.message.split("\n")
  const at = rest.map((line) => /^\s*at \[(.*)\]$/.exec(line)?.[1]).find((path) => path !== undefined)
  const path = at === undefined ? undefined : at.replaceAll('"', "").replaceAll(",", ".")
  return path === undefined ? first : `${path}: ${first}`
}

/**
 * The one line a runtime logs (and a Worker logs before answering 500) when it
 * cannot start: for refused settings, the setting's name and its rule.
 */
export const describeFailure = (cause: Cause.Cause<unknown>): string => describeError(Cause.squash(cause))

/** The same line for an error thrown out of a runtime that could not start (a refused setting may be its cause). */
export const describeError = (error: unknown): string => {
  let current: unknown = error
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    if (current instanceof Config.ConfigError) return `Invalid configuration: ${oneLine(current)}`
    current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
  }
  return `Start-up failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`
}
