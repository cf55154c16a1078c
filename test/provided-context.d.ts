// Values test/global-setup.ts provides to integration tests (`inject('kubeconfig')`).
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig of the run's shared control plane; '' when not root. */
    kubeconfig: string;
    /** Unix socket relaying to that API server, for agents inside node namespaces; '' when not root. */
    apiSocket: string;
  }
}
