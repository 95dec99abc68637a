/**
 * The files of a project made by `keel new`. They live in code, not in a template folder, so that
 * they compile into dist with the rest of the command and ship inside the package.
 */
export interface ProjectTemplateInput {
  /** The service name: package name, `@microservice` name, metric prefix and settings key. */
  name: string;
  /** Keel's package name, as the generated code imports it. */
  keelName: string;
  /** What package.json asks for: a version range, `file:<tarball>` or `file:<folder>`. */
  keelDependency: string;
}

/** Versions of the tools the project builds and tests with; those Keel itself is built with. */
const DEV_DEPENDENCIES = {
  '@swc-node/register': '^1.12.1',
  '@swc/core': '^1.16.22',
  '@types/node': '^20.19.43',
  typescript: '^6.0.3',
};

export function serviceClassName(name: string): string {
  const pascal = name
    .split('_')
    .filter(Boolean)
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('');
  return pascal.endsWith('Service') ? pascal : `${pascal}Service`;
}

export function projectFiles({
  name,
  keelName,
  keelDependency,
}: ProjectTemplateInput): Record<string, string> {
  const Service = serviceClassName(name);
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    'package.json': json({
      name: name.replace(/_/g, '-'),
      version: '0.1.0',
      private: true,
      description: `The ${name} microservice, built with Keel`,
      scripts: {
        build: 'tsc -p tsconfig.build.json',
        start: 'node dist/main.js',
        dev: 'keel run src/service.ts --watch',
        test: 'tsc -p tsconfig.json --noEmit && node --require @swc-node/register --test test/service.test.ts',
      },
      dependencies: { [keelName]: keelDependency },
      devDependencies: DEV_DEPENDENCIES,
      engines: { node: '>=20.19' },
    }),
    'tsconfig.json': json({
      compilerOptions: {
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        lib: ['ES2023'],
        types: ['node'],
        strict: true,
        // Keel reads constructor parameter types to wire resources: both flags are needed.
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        esModuleInterop: true,
        skipLibCheck: true,
        sourceMap: true,
        outDir: 'dist',
        rootDir: '.',
      },
      include: ['src', 'test'],
    }),
    'tsconfig.build.json': json({
      extends: './tsconfig.json',
      compilerOptions: { rootDir: 'src' },
      include: ['src'],
    }),
    'src/main.ts': `import { run } from '${keelName}';
import { ${Service} } from './service';

// Starts the service; SIGTERM or SIGINT stops it gracefully (exit code 0).
void run(${Service});
`,
    'src/service.ts': `import { http, HttpServerResource, Microservice, microservice, type HttpContext } from '${keelName}';
import { Greeter } from './greeter';

@microservice({
  name: '${name}',
  // Each key is a resource's name: its settings live under system.resources.<name>.
  resources: { http: HttpServerResource, greeter: Greeter },
})
export class ${Service} extends Microservice {
  constructor(private readonly greeter: Greeter) {
    super();
  }

  @http('GET', '/hello')
  hello(ctx: HttpContext): string {
    const name = typeof ctx.query.name === 'string' ? ctx.query.name : 'world';
    return this.greeter.greet(name);
  }
}
`,
    'src/greeter.ts': `import {
  defineSettings,
  inject,
  LOGGER,
  METRICS,
  resource,
  SETTINGS,
  type Counter,
  type Log,
  type MeterFactory,
  type SettingsOf,
  type SettingsView,
} from '${keelName}';

/** system.resources.greeter: from config/, etcd or KEEL__SYSTEM__RESOURCES__GREETER__GREETING. */
export const greeterSettings = defineSettings({
  greeting: { doc: 'How to greet', format: String, default: 'Hello' },
});

@resource({ settings: greeterSettings })
export class Greeter {
  private readonly greetings: Counter;

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<SettingsOf<typeof greeterSettings>>,
    @inject(LOGGER) private readonly log: Log,
    @inject(METRICS) meters: MeterFactory,
  ) {
    // Served at /metrics on the report server as ${name}_greetings_total{resource="greeter"}.
    this.greetings = meters.counter('greetings', { help: 'Greetings given' });
  }

  start(): void {
    // Open connections here: start runs after everything this resource needs has started.
    this.log.info({}, \`greeter ready to say "\${this.settings.get('greeting')}"\`);
  }

  greet(name: string): string {
    this.greetings.inc();
    return \`\${this.settings.get('greeting')}, \${name}!\`;
  }

  stop(): void {
    // Close them here: stop runs once everything that uses this resource has stopped.
    this.log.info({}, 'greeter stopped');
  }
}
`,
    'test/service.test.ts': `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpServerResource, Test, type App } from '${keelName}';
import { Greeter } from '../src/greeter';
import { ${Service} } from '../src/service';

async function get(app: App, path: string): Promise<{ status: number; body: string }> {
  const { port } = app.get<HttpServerResource>('http').address()!;
  const response = await fetch(\`http://127.0.0.1:\${port}\${path}\`);
  return { status: response.status, body: await response.text() };
}

test('GET /hello greets through the greeter, with its settings', async () => {
  const app = await Test.createMicroservice(${Service})
    .withSettings({ system: { resources: { http: { port: 0 }, greeter: { greeting: 'Hi' } } } })
    .start();
  try {
    assert.deepEqual(await get(app, '/hello?name=Ada'), { status: 200, body: 'Hi, Ada!' });
  } finally {
    await app.stop();
  }
});

test('a test swaps the greeter for a fake', async () => {
  const app = await Test.createMicroservice(${Service})
    .overrideResource(Greeter)
    .useValue({ greet: (name: string) => \`fake greeting for \${name}\` })
    .withSettings({ system: { resources: { http: { port: 0 } } } })
    .start();
  try {
    assert.deepEqual(await get(app, '/hello'), { status: 200, body: 'fake greeting for world' });
  } finally {
    await app.stop();
  }
});
`,
    'config/development.yaml': `# Read when NODE_ENV is unset or "development" (config/<NODE_ENV>.yaml); etcd and
# KEEL__SYSTEM__... environment variables override it.
system:
  logging:
    profile: DEVELOP
  resources:
    http:
      port: 3000
    greeter:
      greeting: Hello
`,
    Dockerfile: `# Build stage: dev dependencies compile src/ into dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Run stage: production dependencies and the compiled code, as a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
# Inside a container the servers listen on every interface; both default to 127.0.0.1.
ENV KEEL__SYSTEM__RESOURCES__HTTP__HOST=0.0.0.0 \\
    KEEL__SYSTEM__RESOURCES__HTTP__PORT=8080 \\
    KEEL__SYSTEM__RESOURCES__REPORT_SERVER__HOST=0.0.0.0
USER node
EXPOSE 8080 5747
# 200 once every resource started, 503 from the moment a stop begins. The slim image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \\
  CMD ["node", "-e", "require('node:http').get('http://127.0.0.1:5747/health/ready', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
`,
    '.dockerignore': 'node_modules\ndist\n.git\ntest\n*.log\n',
    '.gitignore': 'node_modules\ndist\n',
    'README.md': `# ${name}

A microservice built with [Keel](https://www.npmjs.com/package/${keelName}).

\`\`\`sh
npm install
npm test            # type-check, then the tests in test/
npm run dev         # runs src/service.ts, restarting on every change
npm run build && npm start
\`\`\`

- \`src/service.ts\`: the microservice, its resources and its \`GET /hello\` route (port 3000 in
  development, see \`config/development.yaml\`).
- \`src/greeter.ts\`: a resource with a settings schema (\`system.resources.greeter\`), a start and a
  stop, and a counter.
- The report server answers on 127.0.0.1:5747: \`/health/ready\`, \`/status\`, \`/metrics\`.
  \`npx keel status\` prints the resources and the startup waterfall; \`npx keel graph src/service.ts\`
  the dependency graph.
- \`docker build -t ${name.replace(/_/g, '-')} .\` builds an image that runs as a non-root user with a
  HEALTHCHECK on \`/health/ready\` (it needs a \`package-lock.json\`, which \`npm install\` writes).
`,
  };
}
