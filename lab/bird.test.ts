import { describe, expect, it } from 'vitest';
import { parseBirdProtocols } from './bird.js';

// `birdc show protocols all` from BIRD 2.0.12 (trimmed capability lists), one session up, one
// waiting for a server that runs no BGP yet.
const SAMPLE = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     2026-11-21 15:39:26  

direct1    Direct     ---        up     2026-11-21 15:39:26  
  Channel ipv4
    State:          UP
    Table:          master4
    Routes:         2 imported, 0 exported, 2 preferred

kernel_ipv4 Kernel     master4    up     2026-11-21 15:39:26  
  Channel ipv4
    State:          UP
    Routes:         0 imported, 1 exported, 0 preferred

bgp_spine_eth1 BGP        ---        up     2026-11-21 15:39:27  Established   
  Description:    spine
  BGP state:          Established
    Neighbor address: 198.18.0.2
    Neighbor AS:      65000
    Local AS:         65002
    Neighbor ID:      198.18.255.1
    Session:          external AS4
    Source address:   198.18.0.3
    Hold timer:       6.849/9
    Keepalive timer:  0.894/3
  Channel ipv4
    State:          UP
    Table:          master4
    Preference:     100
    Input filter:   ACCEPT
    Output filter:  ACCEPT
    Routes:         4 imported, 0 filtered, 6 exported, 4 preferred
    Route change stats:     received   rejected   filtered    ignored   accepted
      Import updates:              4          0          0          0          4
    BGP Next hop:   198.18.0.3

bgp_node3_eth2 BGP        ---        start  2026-11-21 15:39:26  Active        Socket: Connection refused
  Description:    node3
  BGP state:          Active
    Neighbor address: 198.18.2.1
    Neighbor AS:      64603
    Local AS:         65002
    Connect delay:    3.123/5
    Last error:       Socket: Connection refused
  Channel ipv4
    State:          DOWN
    Table:          master4

bgp_x_eth5_v6 BGP        ---        start  2026-11-21 15:39:26  Idle
  Description:    x
  BGP state:          Idle
    Neighbor address: 2001:2::1
    Neighbor AS:      65009
    Local AS:         65002
`;

describe('parseBirdProtocols (birdc show protocols all)', () => {
  it('reads every BGP protocol as a session, in the shape FRR sessions have', () => {
    const now = new Date('2026-11-21T15:41:27').getTime();
    expect(parseBirdProtocols(SAMPLE, now)).toEqual([
      {
        family: 4,
        peer: '198.18.0.2',
        description: 'spine',
        remoteAs: 65000,
        state: 'Established',
        uptimeMs: 120_000,
        prefixesReceived: 4,
        prefixesSent: 6,
      },
      {
        family: 4,
        peer: '198.18.2.1',
        description: 'node3',
        remoteAs: 64603,
        state: 'Active',
        uptimeMs: 0,
        prefixesReceived: 0,
        prefixesSent: 0,
      },
      {
        family: 6,
        peer: '2001:2::1',
        description: 'x',
        remoteAs: 65009,
        state: 'Idle',
        uptimeMs: 0,
        prefixesReceived: 0,
        prefixesSent: 0,
      },
    ]);
  });

  it('handles a BIRD with no BGP protocols', () => {
    expect(
      parseBirdProtocols('BIRD 2.0.12 ready.\nName       Proto      Table      State  Since         Info\n'),
    ).toEqual([]);
  });
});
