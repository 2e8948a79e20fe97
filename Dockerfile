# tallyd container image: build with the full toolchain, run with production dependencies only.
#   docker build -t tallyd .
#   docker run -d --name tallyd -v tallyd-data:/data -p 9477:9477 -p 4317:4317 -p 4318:4318 \
#     -p 8125:8125/udp -p 8125:8125/tcp tallyd

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
# --ignore-scripts: the root `prepare` (tsc) needs the sources, copied next; lmdb and msgpackr
# load prebuilt binaries from their optional platform packages, so no install script is needed.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
COPY bin ./bin
COPY proto ./proto
RUN npx tsc -p tsconfig.json && mkdir -p src/ui empty-data
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    TALLYD_DATA_DIR=/data \
    TALLYD_HTTP=0.0.0.0:9477 \
    TALLYD_GRPC=0.0.0.0:9478 \
    TALLYD_OTLP_GRPC=0.0.0.0:4317 \
    TALLYD_OTLP_HTTP=0.0.0.0:4318 \
    TALLYD_STATSD=0.0.0.0:8125
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/bin ./bin
COPY --from=build /app/proto ./proto
COPY --from=build /app/src/ui ./src/ui
# The data directory belongs to the unprivileged `node` user of the base image.
COPY --from=build --chown=node:node /app/empty-data /data
USER node
VOLUME ["/data"]
EXPOSE 9477 9478 4317 4318 8125/udp 8125/tcp
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["node", "bin/tallyd.js"]
CMD ["serve"]
