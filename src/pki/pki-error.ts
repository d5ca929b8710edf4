// PKI material on disk cannot be read, or a name for it is not acceptable.
// Its message is one line meant for the operator, naming the file and what
// to do; the command line prints it as is (src/cli/main.ts), a server logs it.
export class PkiError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PkiError';
  }
}
