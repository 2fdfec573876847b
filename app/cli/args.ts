import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** Thrown for a command line the command cannot take: the usage is printed, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What a command declares: its usage text and the options node:util's parseArgs takes. */
export interface CommandSpec<O extends ParseArgsOptionsConfig> {
  usage: string;
  options?: O;
  /** Words after the command (an action, campaign names, a folder). */
  positionals?: boolean;
}

/**
 * Reads a command's arguments strictly: an unknown option or a missing value is a UsageError,
 * `--help` prints the usage and ends the process with status 0.
 * @example
 * const { values, positionals } = readArgs(argv, { usage: USAGE, options: { size: { type: 'string' } } })
 */
export function readArgs<const O extends ParseArgsOptionsConfig = {}>(argv: string[], spec: CommandSpec<O>): ParsedArgs<O> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: spec.positionals ?? false,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${spec.usage}`);
  }
  if (parsed.values.help) {
    console.log(spec.usage);
    process.exit(0);
  }
  return parsed as unknown as ParsedArgs<O>;
}

/** The values of the declared options (a string or a boolean, by their type) and the other words. */
export interface ParsedArgs<O extends ParseArgsOptionsConfig> {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  positionals: string[];
}

/**
 * Runs a command and turns its failure into an exit status: 2 with the usage for a UsageError, 1
 * with the message (never a stack) for anything else.
 * @example
 * process.exitCode = await runCommand(() => sync(argv))
 */
export async function runCommand(command: () => Promise<number | void>): Promise<number> {
  try {
    return (await command()) ?? 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return error instanceof UsageError ? 2 : 1;
  }
}
