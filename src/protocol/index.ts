export * from './msgid.js';
export * from './retcode.js';
export * from './ip.js';
export * from './frame.js';
export * from './messages.js';
export * from './route-key.js';
