# syntax=docker/dockerfile:1
# modelgov as a container: built from this checkout, run as the package users install.
#   docker build -t modelgov:0.1.0 .
#   docker run -p 7070:7070 modelgov:0.1.0            # embedded store, demo workspace, /var/lib/modelgov
# In Kubernetes see deploy/ and docs/deploy.md (MODELGOV_MODE=production, read-only root).

# Build: dev dependencies, the TypeScript build and the console, then the package exactly as
# `npm pack` makes it (the files package.json lists), beside the lockfile.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && mkdir /pkg \
 && npm pack --pack-destination /pkg \
 && mv /pkg/modelgov-*.tgz /pkg/modelgov.tgz \
 && cp package-lock.json /pkg/package-lock.json

# Package: the packed tarball unpacked, and its production dependencies installed at the
# lockfile's versions (npm pack leaves the lockfile out; npm install of the tarball alone would
# resolve the ranges afresh). No dev dependencies: no TypeScript, no tsx, no build tools.
FROM node:20-bookworm-slim AS package
WORKDIR /opt/modelgov
COPY --from=build /pkg/modelgov.tgz /pkg/package-lock.json /tmp/
RUN tar xzf /tmp/modelgov.tgz --strip-components=1 -C /opt/modelgov \
 && mv /tmp/package-lock.json /opt/modelgov/package-lock.json \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && chmod 0755 /opt/modelgov/bin/modelgov.js \
 && rm /tmp/modelgov.tgz

# Runtime: Node and the installed package, run as an unprivileged user.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    MODELGOV_HOST=0.0.0.0 \
    MODELGOV_PORT=7070 \
    MODELGOV_DATA_DIR=/var/lib/modelgov
COPY --from=package /opt/modelgov /opt/modelgov
RUN ln -s /opt/modelgov/bin/modelgov.js /usr/local/bin/modelgov \
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
