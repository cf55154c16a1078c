// Shared pieces of topology validation: the issue collector and small type guards.
import type { TopologyIssue } from './types.js';

export type Json = unknown;

export const isMap = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects every problem with the path of its field, so a user sees all of them at once. */
export class Issues {
  readonly list: TopologyIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
}

export const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
