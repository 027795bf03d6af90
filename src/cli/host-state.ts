/**
 * The one name of the state an agent holds or reports for a host, in every
 * command's output (docs/console.md, "States"): Lars's idle list is
 * "healthy" to an operator, its overload list "overloaded".
 */
export type HostStateName = 'healthy' | 'overloaded';

export function hostStateName(overloaded: boolean): HostStateName {
  return overloaded ? 'overloaded' : 'healthy';
}
