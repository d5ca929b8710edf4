// What every streamed XML format shares (Nessus, OpenVAS/Greenbone, ZAP,
// CycloneDX XML): a saxes push parser fed whole UTF-8 characters, errors that
// name a line and column but never content, and no DTD ever processed: any
// DOCTYPE is refused, so external entities and entity-expansion bombs cannot
// happen; the five built-in entities and character references decode as usual.

import { SaxesParser, type SaxesOptions } from 'saxes';
import { VaultError } from '../core/errors.js';
import { InvalidUtf8, Utf8Stream } from './utf8.js';

export interface XmlStream<O extends SaxesOptions> {
  parser: SaxesParser<O>;
  /** "line L, column C" of the parser's position. */
  where: () => string;
  /** Refuses the document: 400 xml_malformed naming the position. */
  fail: (message: string) => never;
  /** Decodes a chunk and parses it (400 invalid_utf8 at the first bad byte). */
  write(chunk: Uint8Array): void;
  /** Decodes what is left and closes the parser. */
  close(): void;
}

export function xmlStream<O extends SaxesOptions>(options: O): XmlStream<O> {
  const utf8 = new Utf8Stream();
  const parser = new SaxesParser<O>({ ...options, position: true });
  const where = () => `line ${parser.line}, column ${parser.column + 1}`;
  const fail = (message: string): never => {
    throw new VaultError('xml_malformed', `${message} at ${where()}; nothing was stored`);
  };
  parser.on('error', () => fail('the XML is malformed'));
  parser.on('doctype', () => {
    throw new VaultError(
      'xml_doctype_forbidden',
      `a DOCTYPE is not allowed in uploads (at ${where()}); nothing was stored`,
    );
  });
  const feed = (s: string) => {
    if (s.length > 0) parser.write(s);
  };
  return {
    parser,
    where,
    fail,
    write(chunk) {
      try {
        feed(utf8.decode(chunk));
      } catch (err) {
        if (!(err instanceof InvalidUtf8)) throw err;
        feed(err.validPrefix);
        throw new VaultError(
          'invalid_utf8',
          `the XML is not valid UTF-8 at ${where()}; nothing was stored`,
        );
      }
    },
    close() {
      try {
        feed(utf8.end());
      } catch (err) {
        if (!(err instanceof InvalidUtf8)) throw err;
        throw new VaultError('invalid_utf8', `the XML ends inside a UTF-8 character at ${where()}`);
      }
      parser.close();
    },
  };
}
