// Lock order for every verb: the attachment (container id + ifname) first, then the host veth
// name. The veth name is per pod, not per sandbox, so a new sandbox's ADD and an old sandbox's
// late DEL meet on it: holding it around every create and delete by name means a DEL can never
// remove the veth a newer sandbox just made.
import { attachmentKey } from '../workloads.js';
import type { VerbContext } from './context.js';

export const withAttachment = <T>(
  ctx: VerbContext,
  containerId: string,
  ifname: string,
  fn: () => Promise<T>,
) => ctx.locks.run(attachmentKey(containerId, ifname), fn);

export const withVeth = <T>(ctx: VerbContext, hostVeth: string, fn: () => Promise<T>) =>
  ctx.locks.run(`veth:${hostVeth}`, fn);
