// A tiny ustar writer: directories, regular files and symlinks, owned by root, mtime 0, so the
// same input always gives the same bytes (and so the same OCI digests).

export type TarEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Uint8Array; mode?: number }
  | { type: 'symlink'; path: string; target: string };

const BLOCK = 512;

export class TarError extends Error {
  readonly code = 'TABBY_TAR';
  constructor(message: string) {
    super(message);
    this.name = 'TarError';
  }
}

function putString(buf: Buffer, offset: number, length: number, value: string, what: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new TarError(`tar: ${what} "${value}" is longer than ${length} bytes`);
  bytes.copy(buf, offset);
}

/** Octal, zero-padded to length-1 digits, NUL-terminated. */
function putOctal(buf: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw new TarError(`tar: ${value} does not fit ${length - 1} octal digits`);
  buf.write(`${digits}\0`, offset, 'ascii');
}

/** Splits a long path into ustar's prefix (≤155) and name (≤100) at a slash. */
function splitPath(path: string): [prefix: string, name: string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name) return [prefix, name];
  }
  throw new TarError(`tar: path "${path}" is too long for ustar`);
}

export function tarHeader(entry: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK);
  const path = entry.type === 'dir' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  const [prefix, name] = splitPath(path);
  putString(h, 0, 100, name, 'name');
  const mode = entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
  putOctal(h, 100, 8, mode);
  putOctal(h, 108, 8, 0); // uid
  putOctal(h, 116, 8, 0); // gid
  putOctal(h, 124, 12, entry.type === 'file' ? entry.data.length : 0);
  putOctal(h, 136, 12, 0); // mtime
  h.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  h.write(entry.type === 'file' ? '0' : entry.type === 'dir' ? '5' : '2', 156, 'ascii');
  if (entry.type === 'symlink') putString(h, 157, 100, entry.target, 'link target');
  h.write('ustar\u000000', 257, 'ascii');
  putString(h, 265, 32, 'root', 'uname');
  putString(h, 297, 32, 'root', 'gname');
  putString(h, 345, 155, prefix, 'prefix');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** The whole archive: each header, its data padded to 512 bytes, then two zero blocks. */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e));
    if (e.type === 'file') {
      parts.push(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.length));
      const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
