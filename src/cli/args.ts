// Flag parsing with node:util parseArgs, turned into UsageError for exit code 2.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./command.ts";

export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T, positionals = 0) {
  try {
    const parsed = parseArgs({ args, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: positionals > 0, strict: true });
    if (parsed.positionals.length !== positionals && !(parsed.values as { help?: boolean }).help) {
      throw new UsageError(`expected ${positionals} argument${positionals === 1 ? "" : "s"}, got ${parsed.positionals.length}`);
    }
    return parsed;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}

export function requireFlag(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`--${flag} is required`);
  return value;
}
