// The config file (DIR/vulnvault.json) is missing, unreadable or invalid.
// Its message is one line meant for the operator, naming the file and what
// to do; the command line prints it as is (src/cli/main.ts), a server logs it.
export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}
