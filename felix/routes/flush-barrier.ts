// flush() bookkeeping: every change of desired state bumps a sequence number; a pass covers the
// changes made before it started; a waiter resolves once a pass covered its call.
import { RouteTableStoppedError } from './types.js';

interface Waiter {
  seq: number;
  resolve(): void;
  reject(e: Error): void;
}

export class FlushBarrier {
  private changeSeq = 0;
  private coveredSeq = 0;
  private waiters: Waiter[] = [];

  changed(): void {
    this.changeSeq++;
  }

  /** Call when a pass starts; hand the result to covered() when it ends. */
  passStarts(): number {
    return this.changeSeq;
  }

  covered(seq: number): void {
    this.coveredSeq = Math.max(this.coveredSeq, seq);
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= this.coveredSeq) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  /** Whether every change so far is covered by a finished pass. */
  allCovered(): boolean {
    return this.coveredSeq >= this.changeSeq;
  }

  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.waiters.push({ seq: this.changeSeq, resolve, reject }),
    );
  }

  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  stopped(): void {
    for (const w of this.waiters.splice(0)) w.reject(new RouteTableStoppedError());
  }
}
