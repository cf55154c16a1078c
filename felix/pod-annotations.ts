// Records a pod's addresses on its Pod object (annotation tabby.dev/pod-ips), so `kubectl get
// pod -o yaml` shows what the dataplane gave it. Informational: a failure never fails the ADD;
// it is retried in the background until it lands or the Pod is gone.
import { setTimeout as sleep } from 'node:timers/promises';
import type { PodIdentity } from '../cni/protocol.js';
import type { Datastore } from '../datastore/datastore.js';
import { POD_IPS_ANNOTATION } from '../datastore/resources.js';
import type { Log } from './log.js';

export { POD_IPS_ANNOTATION };

const RETRY_DELAYS_MS = [200, 1000, 5000, 15_000, 60_000];

export class PodAnnotator {
  private stopped = false;

  constructor(
    private readonly ds: Datastore,
    private readonly log: Log,
  ) {}

  /** Tries once now; on a failure other than "no such Pod", keeps retrying in the background. */
  async record(pod: PodIdentity | undefined, addresses: string[]): Promise<void> {
    if (!pod?.namespace || !pod.name) return; // not a Kubernetes pod (a bare CNI client)
    const { namespace, name, uid } = pod;
    const write = () =>
      this.ds.annotatePod(namespace, name, { [POD_IPS_ANNOTATION]: addresses.join(',') }, uid);
    try {
      await write();
    } catch (e) {
      this.log.warn(
        { pod: `${namespace}/${name}`, err: (e as Error).message },
        'pod annotation failed; retrying',
      );
      void this.retry(write, `${namespace}/${name}`);
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private async retry(write: () => Promise<boolean>, pod: string): Promise<void> {
    for (const delay of RETRY_DELAYS_MS) {
      await sleep(delay, undefined, { ref: false });
      if (this.stopped) return;
      try {
        await write();
        return;
      } catch (e) {
        this.log.warn({ pod, err: (e as Error).message }, 'pod annotation retry failed');
      }
    }
    this.log.error({ pod }, 'pod annotation given up');
  }
}
