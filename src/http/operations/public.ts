// The public group: operations without an action (security: [] in the contract).

import { bind, type BoundOperations, type Table } from './table.js';

export const PUBLIC = {
  getHealth: () => Promise.resolve({ status: 200, body: { status: 'ok' } }),
} satisfies Table<unknown>;

export function publicOperations(): BoundOperations {
  return bind<unknown>(PUBLIC, undefined);
}
