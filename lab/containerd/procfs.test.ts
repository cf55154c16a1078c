import { describe, expect, it } from 'vitest';
import { cgroupRoots, descendants, mountsUnder, type ProcEntry, parseMounts } from './procfs.js';

const proc = (pid: number, ppid: number): ProcEntry => ({ pid, ppid, comm: 'x', cmdline: '', startTime: 1 });

describe('procfs parsing', () => {
  it('finds every descendant of the roots, not the roots', () => {
    const procs = [proc(1, 0), proc(10, 1), proc(11, 10), proc(12, 11), proc(20, 1), proc(21, 20)];
    expect([...descendants(procs, new Set([10]))].sort()).toEqual([11, 12]);
    expect([...descendants(procs, new Set([10, 20]))].sort()).toEqual([11, 12, 21]);
    expect(descendants(procs, new Set([12])).size).toBe(0);
  });

  it('parses /proc/mounts (octal escapes) and lists mounts under a dir deepest first', () => {
    const mounts = parseMounts(
      [
        'overlay /d/state/task/abc/rootfs overlay rw 0 0',
        'shm /d/state/cri/sandboxes/abc/shm tmpfs rw 0 0',
        'tmpfs /d2/x tmpfs rw 0 0',
        'tmpfs /d/with\\040space tmpfs rw 0 0',
        'cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0',
        'cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0',
        '',
      ].join('\n'),
    );
    expect(mountsUnder(mounts, '/d')).toEqual([
      '/d/state/cri/sandboxes/abc/shm',
      '/d/state/task/abc/rootfs',
      '/d/with space',
    ]);
    expect(cgroupRoots(mounts)).toEqual(['/sys/fs/cgroup/memory', '/sys/fs/cgroup/unified']);
  });
});
