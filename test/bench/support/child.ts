/**
 * Entry of one bench's child process: loads the module given as argument and awaits its `main`.
 * A module without `main` is not a bench; the runner learns that from the exit code.
 */
export const NOT_A_BENCH_EXIT_CODE = 78;

async function runBench(modulePath: string): Promise<void> {
  const loaded = (await import(modulePath)) as { main?: unknown };
  if (typeof loaded.main !== 'function') process.exit(NOT_A_BENCH_EXIT_CODE);
  await (loaded.main as () => Promise<void>)();
}

if (require.main === module) {
  runBench(process.argv[2]).then(
    // A bench may leave a socket or a timer behind; it must not keep the whole run waiting.
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
