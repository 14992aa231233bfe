# Spanner container image: Debian 12, multi-stage, runs as a non-root user.
#
#   docker build -t spanner .
#   docker run -p 8080:8080 -e SPANNER_DATABASE=postgresql://user:pw@db:5432/spanner spanner
#
# The container expects an external PostgreSQL 15+ (SPANNER_DATABASE); it does
# not run the embedded cluster. Every setting of conf/spanner.docker.conf can
# be overridden with a SPANNER_* environment variable.

FROM debian:12-slim AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	gcc make pkg-config libc6-dev libmicrohttpd-dev libpq-dev libcsv-dev libargon2-dev \
	libjansson-dev libcurl4-gnutls-dev nodejs npm ca-certificates \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY Makefile ./
COPY src ./src
RUN SPANNER_SKIP_DEPS=1 make build/spanner \
	&& mkdir -p assets/vendor && cp node_modules/htmx.org/dist/htmx.min.js assets/vendor/

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	libmicrohttpd12 libpq5 libcsv3 libargon2-1 libjansson4 libcurl3-gnutls ca-certificates \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --home-dir /app --shell /usr/sbin/nologin spanner
WORKDIR /app
COPY --from=build /src/build/spanner /usr/local/bin/spanner
COPY --from=build /src/assets/vendor ./assets/vendor
COPY assets ./assets
COPY templates ./templates
COPY migrations ./migrations
COPY seeds ./seeds
COPY conf ./conf
RUN mkdir -p /app/var && chown spanner /app/var
USER spanner
ENV SPANNER_CONFIG=/app/conf/spanner.docker.conf
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
CMD ["/usr/local/bin/spanner"]
