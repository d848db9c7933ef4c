import { ErrorCodes, SwitchyardError } from '../errors.js';
import type { Balancer } from './balancer.js';
import { ConsistentHashBalancer } from './consistent-hash.js';
import { LeastConnectionsBalancer } from './least-connections.js';
import { PowerOfTwoBalancer } from './power-of-two.js';
import { RandomBalancer } from './random.js';
import { RoundRobinBalancer } from './round-robin.js';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.js';

/** Options a balancer may take from configuration; each balancer reads only its own. */
export interface BalancerOptions {
  /** consistent-hash: how far above the average load one upstream may go (1.25 = 25 %); 0, the default, disables. */
  boundedLoad?: number;
  /** Random source in [0, 1); tests inject a seeded one. Default Math.random. */
  random?: () => number;
}

type BalancerFactory = (options: BalancerOptions) => Balancer;

const factories = new Map<string, BalancerFactory>([
  ['least-connections', () => new LeastConnectionsBalancer()],
  ['round-robin', () => new RoundRobinBalancer()],
  ['weighted-round-robin', () => new WeightedRoundRobinBalancer()],
  ['random', (o) => new RandomBalancer(o.random)],
  ['power-of-two', (o) => new PowerOfTwoBalancer(o.random)],
  ['consistent-hash', (o) => new ConsistentHashBalancer({ boundedLoad: o.boundedLoad })],
]);

/** Names accepted by {@link createBalancer}, in registry order. */
export function balancerNames(): string[] {
  return [...factories.keys()];
}

/** Builds a balancer by registry name. Throws `ERR_UNKNOWN_BALANCER` for a name not registered. */
export function createBalancer(name: string, options: BalancerOptions = {}): Balancer {
  const factory = factories.get(name);
  if (factory === undefined) {
    throw new SwitchyardError(
      ErrorCodes.ERR_UNKNOWN_BALANCER,
      `unknown balancer "${name}"; expected one of ${balancerNames().join(', ')}`,
    );
  }
  return factory(options);
}

/** Adds a balancer under a new name, for users with their own algorithm. */
export function registerBalancer(name: string, factory: BalancerFactory): void {
  factories.set(name, factory);
}
