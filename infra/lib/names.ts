// Names shared by the two stacks (the trail in the data stack selects the
// functions of the API stack by name, before they exist).
export const FUNCTION_NAME_PREFIX = 'vulnvault-';
export const FUNCTIONS = ['authorizer', 'ingest', 'query', 'triage'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];
export const functionName = (f: FunctionName): string => `${FUNCTION_NAME_PREFIX}${f}`;
export const STAGE_NAME = 'prod';
/** Prefix under which CloudTrail writes into the log bucket. */
export const TRAIL_PREFIX = 'cloudtrail';
