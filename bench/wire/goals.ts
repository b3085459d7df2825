import type { ImplName } from './endpoint.ts';
import { fmt } from './format.ts';
import { onceKey, SETUP_CASES, setupKey } from './keys.ts';
import type { Groups, SetupCase } from './measure.ts';
import type { Results } from './results.ts';

/** The goals as ratios of figures, and the tables that say whether each is met. */

export interface Goal {
  title: string;
  numerator: string;
  denominator: string;
  /** At least (`min`) or at most (`max`) this ratio; none for a figure shown for context. */
  target?: { bound: 'min' | 'max'; value: number };
}

export function goals(): Goal[] {
  const list: Goal[] = [];
  const key =
    (mode: SetupCase['mode'], contact: SetupCase['contact'], groups: Groups) => (impl: ImplName) =>
      setupKey({ mode, contact, groups }, impl, 'rate');
  for (const mode of ['sequential', 'parallel'] as const) {
    for (const groups of ['default', 'X25519'] as const) {
      const first = key(mode, 'first', groups);
      list.push({
        title: `${mode} first contact, ${groups} groups: meshkeeper / raw mTLS`,
        numerator: first('meshkeeper'),
        denominator: first('tls'),
        target: { bound: 'min', value: 0.9 },
      });
      list.push({
        title: `${mode} first contact, ${groups} groups: meshkeeper / js-libp2p`,
        numerator: first('meshkeeper'),
        denominator: first('libp2p'),
        target: { bound: 'min', value: 3 },
      });
      const resumed = key(mode, 'resumed', groups);
      list.push({
        title: `${mode} reconnect (resumed), ${groups} groups: meshkeeper / js-libp2p`,
        numerator: resumed('meshkeeper'),
        denominator: resumed('libp2p'),
        target: { bound: 'min', value: 5 },
      });
      list.push({
        title: `${mode} reconnect (resumed), ${groups} groups: meshkeeper / raw mTLS`,
        numerator: resumed('meshkeeper'),
        denominator: resumed('tls'),
      });
      // The ceiling's own lead: a goal against js-libp2p above it cannot be met by any protocol
      // that runs over this TLS.
      list.push({
        title: `${mode} first contact, ${groups} groups: raw mTLS / js-libp2p (ceiling)`,
        numerator: first('tls'),
        denominator: first('libp2p'),
      });
      list.push({
        title: `${mode} reconnect (resumed), ${groups} groups: raw mTLS / js-libp2p (ceiling)`,
        numerator: resumed('tls'),
        denominator: resumed('libp2p'),
      });
    }
  }
  const once = (what: 'throughput' | 'memory', metric: 'rate' | 'rss' | 'heap') => ({
    mk: onceKey(what, 'meshkeeper', metric),
    tls: onceKey(what, 'tls', metric),
    libp2p: onceKey(what, 'libp2p', metric),
  });
  const throughput = once('throughput', 'rate');
  const rss = once('memory', 'rss');
  const heap = once('memory', 'heap');
  list.push(
    {
      title: 'throughput: meshkeeper / js-libp2p',
      numerator: throughput.mk,
      denominator: throughput.libp2p,
      target: { bound: 'min', value: 3 },
    },
    {
      title: 'throughput: meshkeeper / raw mTLS',
      numerator: throughput.mk,
      denominator: throughput.tls,
      target: { bound: 'min', value: 0.7 },
    },
    {
      title: 'throughput: raw mTLS / js-libp2p (ceiling)',
      numerator: throughput.tls,
      denominator: throughput.libp2p,
    },
    {
      title: 'RSS per idle connection: meshkeeper / raw mTLS',
      numerator: rss.mk,
      denominator: rss.tls,
      target: { bound: 'max', value: 1.25 },
    },
    {
      title: 'RSS per idle connection: meshkeeper / js-libp2p (≈ 0.4 follows from the above)',
      numerator: rss.mk,
      denominator: rss.libp2p,
    },
    {
      title: 'V8 heap per idle connection: meshkeeper / raw mTLS',
      numerator: heap.mk,
      denominator: heap.tls,
    },
    {
      title: 'V8 heap per idle connection: meshkeeper / js-libp2p',
      numerator: heap.mk,
      denominator: heap.libp2p,
    },
  );
  return list;
}

/**
 * The setup ratios again from CPU per connection (client + server) instead of wall-clock rates:
 * what a CPU-bound run on an idle machine of this kind would show, and much steadier than rates
 * on a shared one.
 */
export function cpuTable(results: Results): string[] {
  const lines = [
    '| setup case | meshkeeper / raw mTLS | meshkeeper / js-libp2p |',
    '|---|---|---|',
  ];
  for (const setup of SETUP_CASES) {
    const cpu = (impl: ImplName) => setupKey(setup, impl, 'cpu');
    // Inverted (other / meshkeeper) so that, like a rate ratio, above 1 favours meshkeeper.
    const vsRaw = results.ratio(cpu('tls'), cpu('meshkeeper'));
    const vsLibp2p = results.ratio(cpu('libp2p'), cpu('meshkeeper'));
    const title = `${setup.mode} ${setup.contact === 'first' ? 'first contact' : 'reconnect (resumed)'}, ${setup.groups} groups`;
    lines.push(`| ${title} | ${fmt(vsRaw, 2)}× | ${fmt(vsLibp2p, 2)}× |`);
  }
  return lines;
}

export function goalTable(results: Results): string[] {
  const lines = ['| ratio | value | goal | |', '|---|---|---|---|'];
  for (const goal of goals()) {
    const ratio = results.ratio(goal.numerator, goal.denominator);
    const target = goal.target;
    let verdict = '';
    let wanted = '(context)';
    if (target !== undefined) {
      wanted = `${target.bound === 'min' ? '≥' : '≤'} ${fmt(target.value, 2)}`;
      if (ratio !== undefined) {
        const met = target.bound === 'min' ? ratio >= target.value : ratio <= target.value;
        verdict = met ? 'met' : '**missed**';
      }
    }
    lines.push(`| ${goal.title} | ${shown(ratio, target?.bound)}× | ${wanted} | ${verdict} |`);
  }
  return lines;
}

/**
 * A ratio to two decimals, rounded away from its goal (down for an at-least goal, up for an
 * at-most one), so that a value shown equal to its goal is one that meets it: 0.8996 against
 * ≥ 0.90 shows as 0.89, not as a "missed" 0.90.
 */
function shown(ratio: number | undefined, bound: 'min' | 'max' | undefined): string {
  if (ratio === undefined || bound === undefined) return fmt(ratio, 2);
  // The epsilon keeps binary noise (0.29 * 100 = 28.999…) from moving a value by a hundredth.
  const rounded =
    bound === 'min' ? Math.floor(ratio * 100 + 1e-9) / 100 : Math.ceil(ratio * 100 - 1e-9) / 100;
  return fmt(rounded, 2);
}
