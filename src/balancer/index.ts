export * from './types.js';
export * from './params.js';
export { createBalancer } from './factory.js';
export { LarsBalancer } from './lars.js';
export { ConsistentHashBalancer, MAX_RING_POINTS } from './consistent-hash.js';
export { HealthRules, type HealthState } from './health.js';
export { hostKey } from './host-registry.js';
export { NOEXIST_RESULT, OVERLOAD_RESULT } from './results.js';
export * from './route-table.js';
