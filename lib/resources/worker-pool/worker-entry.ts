import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  TYPESCRIPT_MODULE,
  type JobMessage,
  type RemoteError,
  type WorkerBootData,
  type WorkerReply,
} from './protocol';

function parentPortOrThrow(): MessagePort {
  if (parentPort === null) throw new Error('worker-entry runs inside a worker thread started by WorkerPool');
  return parentPort;
}

const port = parentPortOrThrow();
const boot = workerData as WorkerBootData;

// Task modules are named at run time, and require() is what goes through the TypeScript hook.
function requireAt(path: string): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path) as Record<string, unknown>;
}

function loadTask({ modulePath, exportName }: JobMessage): (...args: unknown[]) => unknown {
  // Production pools run compiled .js but may still be handed a .ts task (a service run through
  // @swc-node/register); the hook is loaded only then, so plain .js pools never pay for it.
  if (boot.typescriptRegister !== undefined && TYPESCRIPT_MODULE.test(modulePath)) {
    requireAt(boot.typescriptRegister);
  }
  const exported = requireAt(modulePath)[exportName];
  if (typeof exported !== 'function') {
    throw new TypeError(
      `${modulePath} has no function export named '${exportName}' (found ${typeof exported})`,
    );
  }
  return exported as (...args: unknown[]) => unknown;
}

function describe(error: unknown): RemoteError {
  if (!(error instanceof Error)) return { name: 'Error', message: `non-Error thrown: ${String(error)}` };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    ...(typeof code === 'string' && { code }),
  };
}

function reply(message: WorkerReply): void {
  port.postMessage(message);
}

async function execute(job: JobMessage): Promise<void> {
  try {
    const value = await loadTask(job)(...job.args);
    // A result that cannot be cloned throws here and is reported like any other task failure.
    reply({ type: 'result', id: job.id, value });
  } catch (error) {
    reply({ type: 'error', id: job.id, error: describe(error) });
  }
}

port.on('message', (job: JobMessage) => void execute(job));
reply({ type: 'ready' });
