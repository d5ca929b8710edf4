// The operation table: every operationId of the contract → the function that
// serves it, in one of three groups by the action the contract names
// (x-vulnvault-action): public, read (findings:read), write (findings:write),
// triage (findings:triage).
// A group gets only the ports its functions need, so a runtime that deploys
// the groups as separate functions (the Lambda entries import only their
// group's module) keeps them apart. Handlers are thin converters from a
// typed, validated request to a function call; no logic lives in them.
// Adding a route is: the contract, then one entry in its group.

import type { OperationId } from '../operation-types.js';
import type { PUBLIC } from './public.js';
import type { READ } from './read.js';
import type { TRIAGE } from './triage.js';
import type { WRITE } from './write.js';

export { publicOperations } from './public.js';
export { readOperations, type ReadPorts } from './read.js';
export { writeOperations, nativeFindingValidator, type WritePorts } from './write.js';
export { triageOperations, type TriagePorts } from './triage.js';
export { GROUP_OF_ACTION, type BoundOperations, type OperationGroup } from './table.js';

// Every operation of the contract is in exactly one group: the compiler
// refuses a contract operation without a handler.
type Served = keyof typeof PUBLIC | keyof typeof READ | keyof typeof WRITE | keyof typeof TRIAGE;
export const everyOperationServed: [Exclude<OperationId, Served>] extends [never] ? true : never =
  true;
