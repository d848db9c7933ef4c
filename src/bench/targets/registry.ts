/** Every benchmark target, in the order the suite runs and reports them. */
import type { Target, TargetName } from '../types.js';
import { directTarget } from './direct.js';
import { haproxyTarget } from './haproxy.js';
import { naiveTarget } from './naive.js';
import { nginxTarget } from './nginx.js';
import { switchyardDefaultsTarget, switchyardTarget, switchyardWorkersTarget } from './switchyard.js';

/** The targets in run and report order: direct, switchyard, switchyard-defaults, switchyard-workers, naive, haproxy, nginx. */
export const TARGETS: readonly Target[] = [
  directTarget,
  switchyardTarget,
  switchyardDefaultsTarget,
  switchyardWorkersTarget,
  naiveTarget,
  haproxyTarget,
  nginxTarget,
];

/** The target names, in run and report order. */
export const TARGET_NAMES: readonly TargetName[] = TARGETS.map((t) => t.name);

/** The target called `name`; undefined for a name that is not one. */
export function findTarget(name: string): Target | undefined {
  return TARGETS.find((t) => t.name === name);
}

/** Whether `name` is a target's name. */
export function isTargetName(name: string): name is TargetName {
  return findTarget(name) !== undefined;
}
