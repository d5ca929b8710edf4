// How a runtime turns a reply body into bytes, per operation and status.

import type { RouteDef } from '../contract/routes.js';

export type Serialize = (body: unknown) => string;
export type SerializerFactory = (route: RouteDef) => (status: number) => Serialize;

const stringify: Serialize = (b) => JSON.stringify(b);

export const jsonSerializer: SerializerFactory = () => () => stringify;
