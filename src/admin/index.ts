/**
 * The gRPC admin API (DESIGN §9): the server a node runs, the events it streams, and the client
 * the `meshkeeper admin` command and the tests use.
 */
export { AdminError } from './errors.ts';
export {
  type NodeEvent,
  type NodeEventBody,
  type NodeEventKind,
  NodeEvents,
  type NodeTargets,
} from './events.ts';
export {
  type AdminServer,
  type AdminServerOptions,
  AdminStartError,
  type AdminStartErrorCode,
  startAdminServer,
} from './server.ts';
export type { AdminNode } from './types.ts';
