// A PKCS#11 module, token or key cannot be used (module missing, token not
// there, wrong or locked PIN, key missing or extractable). Its message is one
// line for the operator, naming the token and what to do; it never holds the
// PIN. The command line prints it as is (src/cli/main.ts), a server logs it
// and refuses to start: nothing falls back to key files.
export class TokenError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TokenError';
  }
}
