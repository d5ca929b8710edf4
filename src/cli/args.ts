// Thin wrapper over node:util parseArgs that turns its errors into one-line
// CliErrors naming the command.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './cli-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    throw new CliError(`${command}: ${(err as Error).message} (see 'vulnvault help')`, 2);
  }
}

export function required(command: string, value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new CliError(`${command}: ${flag} is required`, 2);
  return value;
}
