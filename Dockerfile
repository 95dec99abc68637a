# Keel's sample image: the sheep counter (samples/sheep-counter), compiled, on production dependencies.
# No Docker engine runs in this project's CI: every path below is checked against the output of
# `npm run build` (tsconfig.build.json: lib/ and samples/ compiled into dist/lib and dist/samples).

# Build stage: dev dependencies (TypeScript 7 as `tsgo`, esbuild) compile lib/ and samples/ into dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY lib ./lib
COPY samples ./samples
COPY scripts ./scripts
RUN npm run build

# Run stage: production dependencies only, the compiled code, a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
# Inside a container the servers must listen on every interface; both default to 127.0.0.1.
ENV KEEL__SYSTEM__RESOURCES__HTTP__HOST=0.0.0.0 \
    KEEL__SYSTEM__RESOURCES__HTTP__PORT=8080 \
    KEEL__SYSTEM__RESOURCES__REPORT_SERVER__HOST=0.0.0.0 \
    KEEL__SYSTEM__RESOURCES__REPORT_SERVER__PORT=5747
USER node
EXPOSE 8080 5747
# Readiness of the report server: 200 once started, 503 from the moment the service begins to
# drain. The slim image has no curl; node is there.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('node:http').get('http://127.0.0.1:5747/health/ready', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
# run() drains HTTP on SIGTERM; docker stop waits 10 s by default, so give it
# `--stop-timeout 30` (or lower system.resources.http.drain_timeout_ms) for long requests.
STOPSIGNAL SIGTERM
CMD ["node", "dist/samples/sheep-counter/main.js"]
