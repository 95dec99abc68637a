/** Messages between the pool (main thread) and worker-entry (each worker thread). */

export interface JobMessage {
  id: number;
  modulePath: string;
  exportName: string;
  args: unknown[];
}

/** An error as it crosses the thread boundary: what the caller needs to see the worker's failure. */
export interface RemoteError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: RemoteError };

export interface WorkerBootData {
  /** Resolved path of a CommonJS TypeScript hook, required before the first `.ts` task module. */
  typescriptRegister?: string;
}

export const TYPESCRIPT_MODULE = /\.[cm]?tsx?$/;
