// Checks on a request the plugin already validated: the agent never trusts its socket peer's
// shape, and a field missing here is a plugin bug, reported as such.
import { type AgentRequest, CNI_ERROR } from '../../cni/protocol.js';
import { AgentError } from '../errors.js';

export interface Attachment {
  containerId: string;
  ifname: string;
  network: string;
}

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const IFNAME = /^[^/:\s]{1,15}$/;

export function attachmentOf(req: AgentRequest): Attachment {
  const { containerId, ifname } = req;
  if (!containerId || !CONTAINER_ID.test(containerId)) {
    throw new AgentError(
      CNI_ERROR.invalidEnv,
      `CNI_CONTAINERID: invalid or missing (${JSON.stringify(containerId)})`,
    );
  }
  if (!ifname || !IFNAME.test(ifname) || ifname === '.' || ifname === '..') {
    throw new AgentError(CNI_ERROR.invalidEnv, `CNI_IFNAME: invalid or missing (${JSON.stringify(ifname)})`);
  }
  if (!req.conf?.network || !CONTAINER_ID.test(req.conf.network)) {
    throw new AgentError(
      CNI_ERROR.invalidConfig,
      `name: invalid network name (${JSON.stringify(req.conf?.network)})`,
    );
  }
  return { containerId, ifname, network: req.conf.network };
}
