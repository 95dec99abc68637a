/** @jest-config-loader esbuild-register */
import type { Config } from 'jest';

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // A user's project, compiled and tested by test/functional/package/consumer.test.ts.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/functional/package/consumer/'],
  // inversify 8 ships ESM only; swc must turn it into CommonJS for jest's module system.
  transform: { '^.+\\.(t|j|mj)s$': swc as never },
  transformIgnorePatterns: ['/node_modules/(?!(inversify|@inversifyjs)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
  // Functional tests start child processes and servers; jest's 5 s default is a wall-clock bound that a
  // loaded 2-core machine misses (the OTLP start-up trace test did). Tests wait on conditions, not time.
  testTimeout: 60_000,
};

export default config;
