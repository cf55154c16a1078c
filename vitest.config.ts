import { defineConfig } from 'vitest/config';

// Two suites:
//   unit         pure logic, no root, no network, fast (runs anywhere)
//   integration  real kernel (network namespaces), real FRR, real etcd + kube-apiserver;
//                root only; one control plane per run, shared through globalSetup
export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{bgp,cni,common,ctl,datastore,felix,ipam,kernel,lab,proto}/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/global-setup.ts'],
          sequence: { groupOrder: 1 },
          pool: 'forks',
          // 2 cores: at most two labs / test files at once.
          maxWorkers: 2,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
