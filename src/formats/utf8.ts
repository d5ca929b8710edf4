// Strict UTF-8 decoding of a byte stream. A chunk boundary may split a
// character (the decoder carries it over); an invalid sequence throws with
// the text decoded before it, so the caller can say where it was.

export class InvalidUtf8 extends Error {
  constructor(readonly validPrefix: string) {
    super('invalid UTF-8');
    this.name = 'InvalidUtf8';
  }
}

export class Utf8Stream {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  decode(chunk: Uint8Array): string {
    try {
      return this.decoder.decode(chunk, { stream: true });
    } catch {
      // Re-decode leniently to find where the first bad sequence starts.
      const lenient = new TextDecoder('utf-8').decode(chunk);
      const at = lenient.indexOf('\uFFFD');
      throw new InvalidUtf8(at >= 0 ? lenient.slice(0, at) : '');
    }
  }

  end(): string {
    try {
      return this.decoder.decode();
    } catch {
      throw new InvalidUtf8('');
    }
  }
}
