import type { SimNode } from './sim-node.ts';

/**
 * What is wrong with `node`'s hot peers across its layers (empty when nothing): each must be an
 * established peer whose connection is open on the wire, whose point the pool shows running and
 * whose peer record the pool shows connected — hot ⊆ established, in every layer at once.
 */
export function hotOutsideEstablished(node: SimNode): string[] {
  const problems: string[] = [];
  for (const handle of node.peers.handles.values()) {
    if (handle.status !== 'hot') continue;
    const { connection, peerId } = handle;
    const what = `${node.name}: hot peer ${peerId}`;
    if (connection.isClosed) problems.push(`${what} has a closed connection`);
    if (node.transport.linkTo(peerId) === undefined) problems.push(`${what} has no link`);
    const point = connection.point === undefined ? undefined : node.pool.point(connection.point);
    if (point?.state !== 'running') problems.push(`${what}: its point is ${point?.state}`);
    if ((node.pool.peer(peerId)?.connections ?? 0) < 1) {
      problems.push(`${what}: the pool has it disconnected`);
    }
  }
  return problems;
}
