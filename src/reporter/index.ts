/** The reporter service: agents' call statistics into the store, batched through a bounded queue. */
export { startReporter, type Reporter, type ReporterStats, type StartReporterOptions } from './service.js';
export { reporterSection, REPORTER_CONFIG_SECTIONS, DEFAULT_REPORTER_PORT, DEFAULT_REPORTER_ADMIN_PORT, type ReporterConfig } from './config.js';
export { toStatusRows, reportTime, type ConvertedReport } from './report.js';
export { BatchQueue, type Batch, type QueueLimits, type PushOutcome } from './queue.js';
