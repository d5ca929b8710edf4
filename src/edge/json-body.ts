// JSON body parser: fastify's own parser reports every failure as one generic
// error; this one keeps the reason (syntax error and where, or a forbidden
// __proto__ / constructor.prototype key) without echoing any of the body.

import type { FastifyInstance } from 'fastify';
import sjson from 'secure-json-parse';
import { VaultError } from '../core/errors.js';

export function installJsonParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit },
    (_req, body, done) => {
      const text = body as string;
      if (text.length === 0) {
        done(new VaultError('invalid_json', 'request body is empty'), undefined);
        return;
      }
      try {
        done(
          null,
          sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }),
        );
      } catch (err) {
        const msg = (err as Error).message;
        if (/prototype/i.test(msg)) {
          done(
            new VaultError(
              'invalid_json',
              'request body contains a forbidden key (__proto__ or constructor.prototype)',
            ),
            undefined,
          );
          return;
        }
        const at = /position (\d+)/.exec(msg)?.[1];
        done(
          new VaultError(
            'invalid_json',
            `request body is not valid JSON${at ? ` (at byte ${at})` : ''}`,
          ),
          undefined,
        );
      }
    },
  );
}
