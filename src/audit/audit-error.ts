// An audit log or its signing or verify key cannot be used as it is.
// Its message is one line meant for the operator, naming the file and what
// to do; the command line prints it as is (src/cli/main.ts), a server logs it.
export class AuditError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AuditError';
  }
}
