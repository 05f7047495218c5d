# syntax=docker/dockerfile:1
# modelgov as a container: built from this checkout, run as the package users install.
#   docker build -t modelgov:0.1.0 .
#   docker run -p 7070:7070 modelgov:0.1.0            # embedded store, demo workspace, /var/lib/modelgov
# In Kubernetes see deploy/ and docs/deploy.md (MODELGOV_MODE=production, read-only root).

# Build: dev dependencies, the TypeScript build and the console, then the package exactly as
# `npm pack` makes it. The lockfile rides along as npm-shrinkwrap.json, so the runtime install
# resolves the same dependency versions this checkout tested.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && cp package-lock.json npm-shrinkwrap.json \
 && mkdir /pkg \
 && npm pack --pack-destination /pkg \
 && mv /pkg/modelgov-*.tgz /pkg/modelgov.tgz

# Runtime: Node and the packed package, installed without dev dependencies (no TypeScript, no
# tsx, no build tools), run as an unprivileged user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    MODELGOV_HOST=0.0.0.0 \
    MODELGOV_PORT=7070 \
    MODELGOV_DATA_DIR=/var/lib/modelgov
COPY --from=build /pkg/modelgov.tgz /tmp/modelgov.tgz
RUN npm install --global --omit=dev --no-audit --no-fund /tmp/modelgov.tgz \
 && rm /tmp/modelgov.tgz \
 && npm cache clean --force \
 && groupadd --system --gid 10001 modelgov \
 && useradd --system --uid 10001 --gid modelgov --home-dir /var/lib/modelgov --shell /usr/sbin/nologin modelgov \
 && mkdir -p /var/lib/modelgov /var/spool/modelgov \
 && chown modelgov:modelgov /var/lib/modelgov /var/spool/modelgov
USER 10001:10001
WORKDIR /var/lib/modelgov
VOLUME ["/var/lib/modelgov"]
EXPOSE 7070
ENTRYPOINT ["modelgov"]
CMD ["serve"]
