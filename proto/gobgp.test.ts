// proto/gobgp.ts: loading the gobgp protos from Debian's package (or $TABBY_GOBGP_PROTO_DIR), Any helpers.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  anyOf,
  anyType,
  DEFAULT_GOBGP_PROTO_DIR,
  GobgpProtoError,
  gobgpProtoDir,
  loadGobgpProto,
  typeUrl,
} from './gobgp.js';

describe('gobgpProtoDir', () => {
  it('is Debian’s directory unless TABBY_GOBGP_PROTO_DIR says otherwise', () => {
    expect(gobgpProtoDir({})).toBe(DEFAULT_GOBGP_PROTO_DIR);
    expect(gobgpProtoDir({ TABBY_GOBGP_PROTO_DIR: '/opt/gobgp/api' })).toBe('/opt/gobgp/api');
  });
});

describe('loadGobgpProto', () => {
  it('names the env var when the protos are missing', () => {
    expect(() => loadGobgpProto('/nonexistent/gobgp/api')).toThrow(GobgpProtoError);
    expect(() => loadGobgpProto('/nonexistent/gobgp/api')).toThrow(/TABBY_GOBGP_PROTO_DIR/);
  });

  it.skipIf(!existsSync(`${DEFAULT_GOBGP_PROTO_DIR}/gobgp.proto`))(
    'loads the service and its messages once',
    () => {
      const pkg = loadGobgpProto(DEFAULT_GOBGP_PROTO_DIR);
      expect(typeof pkg.GobgpApi).toBe('function');
      expect(pkg.GobgpApi.service.WatchEvent?.responseStream).toBe(true);
      expect(pkg.GobgpApi.service.SetPolicyAssignment?.path).toBe('/apipb.GobgpApi/SetPolicyAssignment');
      expect(loadGobgpProto(DEFAULT_GOBGP_PROTO_DIR)).toBe(pkg);
    },
  );
});

describe('Any helpers', () => {
  it('writes { @type, ...fields } and reads the message name back', () => {
    const a = anyOf('IPAddressPrefix', { prefix: '10.0.0.0', prefixLen: 8 });
    expect(a).toEqual({
      '@type': 'type.googleapis.com/apipb.IPAddressPrefix',
      prefix: '10.0.0.0',
      prefixLen: 8,
    });
    expect(anyType(a)).toBe('IPAddressPrefix');
    expect(anyType({ type_url: typeUrl('X'), value: Buffer.alloc(0) })).toBe('');
    expect(anyType(null)).toBe('');
  });
});
