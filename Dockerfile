# Spanner container image: Debian 12, Kore 4.1 from Debian, multi-stage, runs as a non-root user.
#
#   docker build -t spanner .
#   docker run -p 127.0.0.1:8080:8080 \
#     -e SPANNER_DATABASE=postgresql://user:pw@db:5432/spanner \
#     -e SPANNER_TRUST_PROXY=1 -e SPANNER_BASE_URL=https://spanner.example.com spanner
#
# The container runs `kore` with the module build/spanner.so, as `make run`
# does, and expects an external PostgreSQL 15+ (SPANNER_DATABASE): it has no
# PostgreSQL of its own, and a database it cannot reach stops the start (the
# parent migrates it before forking the workers, under an advisory lock, so
# several containers may start at once). It serves plain HTTP on 8080: put the
# TLS proxy in front (conf/nginx/spanner.conf) and set SPANNER_TRUST_PROXY=1
# only when the port is reachable through that proxy alone. Every setting of
# conf/spanner.docker.conf can be overridden with a SPANNER_* variable.

FROM debian:bookworm-slim AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	gcc make pkg-config libc6-dev kore libpq-dev libcsv-dev libargon2-dev libjansson-dev \
	libcurl4-gnutls-dev nodejs npm ca-certificates \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Behind a TLS-inspecting proxy, npm must trust the proxy's CA: build with
# --build-arg NODE_EXTRA_CA_CERTS=/run/host-ca.crt and that bundle mounted there
# (podman build -v /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro), as
# tests/container/run does. Empty (the default) changes nothing.
ARG NODE_EXTRA_CA_CERTS=
# npm packages in their own layer, so a source change does not fetch them again.
# The stamp is the Makefile's record that `npm ci` ran for this lock file.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.spanner-stamp
COPY . .
# SPANNER_SKIP_DEPS=1: the packages above are the build's dependencies, no apt-get
# from make. Only what the image needs (`make build` would add the tests' sanitizer
# module).
RUN make build/spanner.so build/spanner-ctl assets/vendor/htmx.min.js SPANNER_SKIP_DEPS=1 \
	&& test -f build/spanner.so && test -f build/spanner-ctl && test -f assets/vendor/htmx.min.js

FROM debian:bookworm-slim
# Debian's kore package also pulls in libc6-dev, libssl-dev and libpq-dev
# (it is built for `kodev` too); the module itself needs only the libraries.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	kore libpq5 libcsv3 libargon2-1 libjansson4 libcurl3-gnutls ca-certificates \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --home-dir /app --shell /usr/sbin/nologin spanner
WORKDIR /app
# The same layout as the source tree, so kore.conf's relative paths
# (`load ./build/spanner.so`, assets, templates, var/) hold here too.
COPY --from=build /src/build/spanner.so ./build/spanner.so
# spanner-ctl --init-only: migrate (and seed) without serving, e.g. before a rollout.
COPY --from=build /src/build/spanner-ctl ./build/spanner-ctl
COPY --from=build /src/assets ./assets
COPY templates ./templates
COPY migrations ./migrations
COPY seeds ./seeds
COPY conf ./conf
COPY kore.conf ./kore.conf
# kore.conf listens on 127.0.0.1:8080; in a container the port mapping decides
# who can reach it, so listen on every interface. var/ is the only directory
# the spanner user may write: Kore's pid file and upload bodies (kore.conf) and
# the app's temporary files go there; it must exist before kore starts.
RUN sed -i -E 's/\bbind([[:space:]]+)127\.0\.0\.1([[:space:]]+8080)\b/bind\10.0.0.0\2/' kore.conf \
	&& grep -Eq '\bbind[[:space:]]+0\.0\.0\.0[[:space:]]+8080\b' kore.conf \
	|| { echo "Dockerfile: kore.conf has no 'bind 127.0.0.1 8080' to open up" >&2; exit 1; }; \
	grep -Eq '^[[:space:]]*pidfile[[:space:]]' kore.conf || echo 'pidfile var/kore.pid' >>kore.conf; \
	mkdir -p /app/var && chown spanner /app/var
USER spanner
ENV SPANNER_CONFIG=/app/conf/spanner.docker.conf
EXPOSE 8080
# 200 only while the database answers (GET /healthz).
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/bash", "-c", \
	"exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -c 12 <&3 | grep -q ' 200'"]
# -f foreground (kore is PID 1 and stops cleanly on `docker stop`'s SIGTERM),
# -n no chroot (it would hide files and sockets outside /app), -r no user
# switch: the whole container already runs as `spanner`, so no part of Kore
# ever runs as root (Kore's `runas` needs a root parent to switch from).
# stdbuf: Kore writes its log with printf, which is block-buffered on a pipe.
CMD ["stdbuf", "-oL", "kore", "-f", "-n", "-r", "-c", "kore.conf"]
