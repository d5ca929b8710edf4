// A backup cannot be read or restored (checked before anything is replaced).
// Its message is one line meant for the operator, naming the file and what
// to do; the command line prints it as is (src/cli/main.ts), a server logs it.
export class BackupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BackupError';
  }
}
