// Why the server cannot start (TLS material, network policy, a store, the
// edge): one complete line for the operator, printed by the CLI as is. Its
// own module, so the CLI can recognise it without loading the server.

export class StartupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartupError';
  }
}
