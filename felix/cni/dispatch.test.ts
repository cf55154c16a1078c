import { describe, expect, it } from 'vitest';
import { type AgentRequest, CNI_ERROR, PROTOCOL_VERSION } from '../../cni/protocol.js';
import type { VerbContext } from './context.js';
import { dispatch } from './dispatch.js';

/** A context every member of which throws when touched: the request must be refused before. */
const untouchable = (): { ctx: VerbContext; touched: string[] } => {
  const touched: string[] = [];
  const ctx = new Proxy({} as VerbContext, {
    get(_, prop) {
      touched.push(String(prop));
      throw new Error(`context touched: ${String(prop)}`);
    },
  });
  return { ctx, touched };
};

const request = (protocol: unknown): AgentRequest =>
  ({
    protocol,
    verb: 'ADD',
    containerId: 'abc',
    ifname: 'eth0',
    netns: '/var/run/netns/x',
    conf: {
      network: 'k8s-pod-network',
      cniVersion: '1.1.0',
      agentSocket: '',
      mtu: 0,
      ipam: { assignIpv4: true, assignIpv6: false, pools: [] },
    },
  }) as unknown as AgentRequest;

describe('dispatch', () => {
  it.each([
    PROTOCOL_VERSION + 1,
    0,
    String(PROTOCOL_VERSION),
    undefined,
  ])('refuses protocol %j with code 105 without touching anything', async (protocol) => {
    const { ctx, touched } = untouchable();
    const res = await dispatch(ctx, request(protocol));
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.code).toBe(CNI_ERROR.protocolMismatch);
    expect(res.error.msg).toContain(`plugin speaks protocol ${String(protocol)}`);
    expect(res.error.msg).toContain(`the agent ${PROTOCOL_VERSION}`);
    expect(touched).toEqual([]);
  });

  it('refuses a request that is not an object with code 105', async () => {
    const { ctx, touched } = untouchable();
    const res = await dispatch(ctx, null as unknown as AgentRequest);
    expect(res).toMatchObject({ ok: false, error: { code: CNI_ERROR.protocolMismatch } });
    expect(touched).toEqual([]);
  });
});
