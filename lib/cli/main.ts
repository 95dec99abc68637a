#!/usr/bin/env node
import { runCli } from './commands';

runCli(process.argv.slice(2), { env: process.env, out: process.stdout, err: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`keel: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
