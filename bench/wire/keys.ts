import type { ImplName } from './endpoint.ts';
import type { SetupCase } from './measure.ts';

/** Where each figure is kept in Results, and which setup cases run. */

export type SetupMetric =
  | 'rate'
  | 'clientCpu'
  | 'serverCpu'
  /** Client + server CPU per connection. */
  | 'cpu'
  | 'resumed'
  | 'failed'
  | 'count'
  /** Dials, warm-up included, and those whose client identity the server proved. */
  | 'dialed'
  | 'proven';

export function setupKey(setup: SetupCase, impl: ImplName, metric: SetupMetric): string {
  // js-libp2p has one variant: Noise (X25519), no resumption. Its reconnect is a first contact.
  const { mode, contact, groups } =
    impl === 'libp2p' ? { ...setup, contact: 'first', groups: 'default' } : setup;
  return `setup/${mode}/${contact}/${groups}/${impl}/${metric}`;
}

export function onceKey(
  what: 'throughput' | 'memory',
  impl: ImplName,
  metric: 'rate' | 'clientCpu' | 'serverCpu' | 'rss' | 'heap' | 'held' | 'failed',
): string {
  return `${what}/${impl}/${metric}`;
}

/** The setup cases measured, in the order run; js-libp2p runs only the first-contact default. */
export const SETUP_CASES: readonly SetupCase[] = (['sequential', 'parallel'] as const).flatMap(
  (mode) =>
    (['first', 'resumed'] as const).flatMap((contact) =>
      (['default', 'X25519'] as const).map((groups) => ({ mode, contact, groups })),
    ),
);

export function runsFor(setup: SetupCase, impl: ImplName): boolean {
  return impl !== 'libp2p' || (setup.contact === 'first' && setup.groups === 'default');
}
