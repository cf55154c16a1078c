import { Agent } from 'node:https';
import { type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KeepAliveAuth } from './kubernetes-client.js';

/** A KubeConfig stand-in that, like client-node's, sets a brand-new agent on every request. */
function fakeKubeConfig(tls: { ca: string }) {
  return {
    applySecurityAuthentication: async (ctx: RequestContext) => {
      ctx.setHeaderParam('Authorization', 'Bearer t');
      ctx.setAgent(new Agent({ ca: tls.ca }));
    },
  } as unknown as KubeConfig;
}

const request = async (auth: KeepAliveAuth) => {
  const ctx = new RequestContext('https://127.0.0.1:6443/apis', 'GET' as never);
  await auth.applySecurityAuthentication(ctx);
  return ctx;
};

describe('keep-alive API clients', () => {
  it('reuses one keep-alive agent while the TLS material stays the same', async () => {
    const tls = { ca: 'CA-1' };
    const auth = new KeepAliveAuth(fakeKubeConfig(tls));
    const a = await request(auth);
    const b = await request(auth);
    expect(a.getAgent()).toBe(b.getAgent());
    expect((a.getAgent() as Agent & { keepAlive: boolean }).keepAlive).toBe(true);
    expect(a.getHeaders().Authorization).toBe('Bearer t');
    tls.ca = 'CA-2'; // rotated credentials get a new agent
    const c = await request(auth);
    expect(c.getAgent()).not.toBe(a.getAgent());
    expect((c.getAgent() as Agent).options.ca).toBe('CA-2');
    auth.close();
  });
});
