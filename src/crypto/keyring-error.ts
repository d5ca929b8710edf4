// The keyring or the key-admin key cannot be used, or a key change is refused.
// Its message is one line meant for the operator, naming the file and what
// to do; the command line prints it as is (src/cli/main.ts), a server logs it.
export class KeyringError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KeyringError';
  }
}
