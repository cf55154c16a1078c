import { describe, expect, it } from 'vitest';
import { labelSelector, toBody, toNodeInfo, toResource } from './kubernetes-objects.js';

describe('Kubernetes object conversion', () => {
  it('keeps only ObjectMeta fields and the spec of stored objects', () => {
    const raw = {
      apiVersion: 'tabby.dev/v1alpha1',
      kind: 'IPPool',
      metadata: {
        name: 'p',
        resourceVersion: '42',
        uid: 'u-1',
        generation: 1,
        creationTimestamp: '2026-11-21T00:00:00Z',
        labels: { a: '1' },
        managedFields: [{ manager: 'tabby' }],
      },
      spec: { cidr: '10.0.0.0/16' },
    };
    expect(toResource(raw)).toEqual({
      metadata: {
        name: 'p',
        resourceVersion: '42',
        uid: 'u-1',
        creationTimestamp: '2026-11-21T00:00:00Z',
        labels: { a: '1' },
      },
      spec: { cidr: '10.0.0.0/16' },
    });
  });

  it('sends store-assigned fields on update only', () => {
    const obj = {
      metadata: {
        name: 'p',
        resourceVersion: '7',
        uid: 'u',
        creationTimestamp: 'x',
        labels: {},
        annotations: { n: 'v' },
      },
      spec: { cidr: '10.0.0.0/16' },
    };
    expect(toBody('IPPool', obj, 'create')).toEqual({
      apiVersion: 'tabby.dev/v1alpha1',
      kind: 'IPPool',
      metadata: { name: 'p', annotations: { n: 'v' } },
      spec: obj.spec,
    });
    expect(toBody('IPPool', obj, 'update').metadata).toEqual({
      name: 'p',
      resourceVersion: '7',
      uid: 'u',
      annotations: { n: 'v' },
    });
  });

  it('builds equality label selectors', () => {
    expect(labelSelector()).toBeUndefined();
    expect(labelSelector({})).toBeUndefined();
    expect(labelSelector({ 'tabby.dev/node': 'n1', rack: 'a' })).toBe('tabby.dev/node=n1,rack=a');
  });

  it('reads what tabby needs of a Node: labels, annotations, status addresses', () => {
    const raw = {
      metadata: { name: 'n1', labels: { a: '1' }, annotations: { b: '2' }, uid: 'u' },
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.1' },
          { type: 'Hostname', address: '' },
        ],
      },
    };
    expect(toNodeInfo(raw)).toEqual({
      name: 'n1',
      labels: { a: '1' },
      annotations: { b: '2' },
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
    });
    expect(toNodeInfo({ metadata: { name: 'bare' } })).toEqual({
      name: 'bare',
      labels: {},
      annotations: {},
      addresses: [],
    });
  });
});
