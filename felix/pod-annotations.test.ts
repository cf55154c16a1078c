import { describe, expect, it, vi } from 'vitest';
import { memoryDatastore } from '../datastore/memory.js';
import { recordingLog } from './fake-log.js';
import { POD_IPS_ANNOTATION, PodAnnotator } from './pod-annotations.js';

describe('PodAnnotator', () => {
  it('writes the pod’s addresses to tabby.dev/pod-ips, keeping other annotations', async () => {
    expect(POD_IPS_ANNOTATION).toBe('tabby.dev/pod-ips');
    const ds = memoryDatastore();
    ds.setPod('default', 'web', { uid: 'u1', annotations: { other: 'kept' } });
    const { log, entries } = recordingLog();
    const annotator = new PodAnnotator(ds, log);
    await annotator.record({ namespace: 'default', name: 'web', uid: 'u1' }, ['10.244.1.7', 'fd00::7']);
    expect(ds.podAnnotations('default', 'web')).toEqual({
      other: 'kept',
      'tabby.dev/pod-ips': '10.244.1.7,fd00::7',
    });
    // Without a uid the name alone decides.
    await annotator.record({ namespace: 'default', name: 'web' }, ['10.244.1.8']);
    expect(ds.podAnnotations('default', 'web')?.[POD_IPS_ANNOTATION]).toBe('10.244.1.8');
    expect(entries).toEqual([]);
  });

  it('a missing pod is fine: no throw, no warning, no retry', async () => {
    const ds = memoryDatastore();
    const annotate = vi.spyOn(ds, 'annotatePod');
    const { log, entries } = recordingLog();
    const annotator = new PodAnnotator(ds, log);
    await expect(
      annotator.record({ namespace: 'default', name: 'gone', uid: 'u1' }, ['10.244.1.7']),
    ).resolves.toBeUndefined();
    expect(annotate).toHaveBeenCalledTimes(1);
    expect(entries).toEqual([]); // a retry is only ever scheduled after a warning
    expect(ds.podAnnotations('default', 'gone')).toBeUndefined();
    annotator.stop();
  });

  it('does nothing without a pod identity (a bare CNI client)', async () => {
    const ds = memoryDatastore();
    ds.setPod('default', 'web', { uid: 'u1' });
    const annotate = vi.spyOn(ds, 'annotatePod');
    const { log, entries } = recordingLog();
    const annotator = new PodAnnotator(ds, log);
    await annotator.record(undefined, ['10.244.1.7']);
    await annotator.record({}, ['10.244.1.7']);
    await annotator.record({ namespace: 'default', uid: 'u1' }, ['10.244.1.7']);
    await annotator.record({ name: 'web', uid: 'u1' }, ['10.244.1.7']);
    await annotator.record({ namespace: '', name: 'web' }, ['10.244.1.7']);
    expect(annotate).not.toHaveBeenCalled();
    expect(ds.podAnnotations('default', 'web')).toEqual({});
    expect(entries).toEqual([]);
  });

  it('does nothing to another incarnation of the pod (uid mismatch)', async () => {
    const ds = memoryDatastore();
    ds.setPod('default', 'web', { uid: 'new', annotations: { [POD_IPS_ANNOTATION]: '10.244.1.9' } });
    const { log, entries } = recordingLog();
    const annotator = new PodAnnotator(ds, log);
    await expect(
      annotator.record({ namespace: 'default', name: 'web', uid: 'old' }, ['10.244.1.7']),
    ).resolves.toBeUndefined();
    expect(ds.podAnnotations('default', 'web')).toEqual({ [POD_IPS_ANNOTATION]: '10.244.1.9' });
    expect(entries).toEqual([]);
  });

  it('a failing write never fails the caller: it warns and retries in the background', async () => {
    const ds = memoryDatastore();
    ds.setPod('default', 'web', { uid: 'u1' });
    const annotate = vi.spyOn(ds, 'annotatePod').mockRejectedValueOnce(new Error('apiserver down'));
    const { log, entries } = recordingLog();
    const annotator = new PodAnnotator(ds, log);
    await expect(
      annotator.record({ namespace: 'default', name: 'web', uid: 'u1' }, ['10.244.1.7']),
    ).resolves.toBeUndefined();
    expect(entries).toEqual([
      {
        level: 'warn',
        obj: { pod: 'default/web', err: 'apiserver down' },
        msg: 'pod annotation failed; retrying',
      },
    ]);
    expect(ds.podAnnotations('default', 'web')).toEqual({});
    // The first retry comes after 200 ms.
    await vi.waitFor(() => expect(annotate).toHaveBeenCalledTimes(2), { timeout: 2000, interval: 20 });
    await vi.waitFor(() =>
      expect(ds.podAnnotations('default', 'web')?.[POD_IPS_ANNOTATION]).toBe('10.244.1.7'),
    );
    expect(entries).toHaveLength(1);
    annotator.stop();
  });

  it('stop() ends background retries', async () => {
    const ds = memoryDatastore();
    ds.setPod('default', 'web', { uid: 'u1' });
    const annotate = vi.spyOn(ds, 'annotatePod').mockRejectedValue(new Error('apiserver down'));
    const { log } = recordingLog();
    const annotator = new PodAnnotator(ds, log);
    await annotator.record({ namespace: 'default', name: 'web', uid: 'u1' }, ['10.244.1.7']);
    annotator.stop();
    await new Promise((r) => setTimeout(r, 300)); // past the first retry delay (200 ms)
    expect(annotate).toHaveBeenCalledTimes(1);
  });
});
