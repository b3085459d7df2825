import { systemClock } from '../src/clock.ts';
import { loadConfig } from '../src/config/index.ts';
import type { Config } from '../src/config/types.ts';
import { createCertificate, generateIdentity } from '../src/identity/index.ts';
import type { Telemetry } from '../src/telemetry/index.ts';
import type { Connection } from '../src/wire/connection.ts';
import type { TicketCache } from '../src/wire/tls.ts';
import { Transport } from '../src/wire/transport.ts';

/** The configuration a node has with no file, environment or flag: what the benches run. */
export function defaultConfig(): Config {
  const loaded = loadConfig({ argv: [], env: {} });
  if (!loaded.ok) throw new Error('the default configuration does not load');
  return loaded.config;
}

/**
 * meshkeeper's real wire layer (TCP + TLS 1.3 + handshake + mux) with a fresh identity and no
 * pool behind it: the lightweight peer every bench runs in numbers.
 */
export async function benchTransport(
  config: Config,
  telemetry: Telemetry,
  extra: { tickets?: TicketCache; onConnection: (connection: Connection) => void },
): Promise<{ transport: Transport; peerId: string }> {
  const identity = generateIdentity();
  const transport = new Transport({
    peerId: identity.peerId,
    credentials: await createCertificate(identity),
    network: config.network,
    wire: config.wire,
    gossip: config.gossip,
    privateNode: false,
    peerSharing: true,
    telemetry,
    clock: systemClock,
    ...extra,
  });
  return { transport, peerId: identity.peerId };
}
