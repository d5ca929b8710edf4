// Thin wrapper over node:util parseArgs that turns its errors into one-line
// CliErrors naming the command and where its help is (--help itself never
// gets here: main answers it first).
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
    // Node appends, for commands with positionals, a hint about '--' whose
    // nested quotes garble the line; the option's name is what matters.
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new CliError(`${command}: ${message} (see 'vulnvault ${command} --help')`, 2);
  }
}

export function required(command: string, value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new CliError(`${command}: ${flag} is required`, 2);
  return value;
}
