/** Every benchmark target, in the order the suite runs and reports them. */
import type { Target, TargetName } from '../types.js';
import { directTarget } from './direct.js';
import { haproxyTarget } from './haproxy.js';
import { nginxTarget } from './nginx.js';
import { switchyardTarget } from './switchyard.js';

/** The targets in run and report order: direct, switchyard, haproxy, nginx. */
export const TARGETS: readonly Target[] = [directTarget, switchyardTarget, haproxyTarget, nginxTarget];

/** The target called `name`; undefined for a name that is not one. */
export function findTarget(name: string): Target | undefined {
  return TARGETS.find((t) => t.name === name);
}

/** Whether `name` is a target's name. */
export function isTargetName(name: string): name is TargetName {
  return findTarget(name) !== undefined;
}
