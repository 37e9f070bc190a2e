# kiln as a container image: one image runs `kiln server` (webhooks, API,
# UI) or `kiln worker` (runs steps through the Docker socket).
#
#   docker build -t kiln .                      # normal build (npm ci inside)
#   docker run --rm kiln --version
#
# Offline (no registry): build a Node 20 base image locally and a context
# that carries node_modules (docs/deploy.md):
#   base=$(scripts/build-node-base-image.sh)
#   ctx=$(scripts/prepare-docker-context.sh)
#   docker build --network none --build-arg BASE_IMAGE="$base" -t kiln "$ctx"
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /app
# The context has node_modules only when prepared for an offline build
# (.dockerignore leaves it out otherwise).
COPY . .
RUN if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi \
 && npm run build \
 && npm prune --omit=dev --no-audit --no-fund --offline \
 && rm -rf node_modules/.cache

FROM ${BASE_IMAGE} AS runtime
# kiln reads configurations and code with git; the offline base has it.
RUN if ! command -v git >/dev/null; then \
      apt-get update \
      && apt-get install -y --no-install-recommends git ca-certificates \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && mkdir -p /var/lib/kiln && chown node:node /var/lib/kiln
WORKDIR /app
ENV NODE_ENV=production \
    KILN_DATA_DIR=/var/lib/kiln \
    KILN_PORT=8080
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/api ./api
COPY --from=build /app/webhooks ./webhooks
COPY --from=build /app/node_modules ./node_modules
USER node
VOLUME ["/var/lib/kiln"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.KILN_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/kiln.js"]
CMD ["server"]
