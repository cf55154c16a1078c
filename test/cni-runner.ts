// Moved to lab/cni-runner.ts (the demo uses it too).
export * from '../lab/cni-runner.js';
