# Clearance's container image: the runtime lock only (no test tools), every package checked against
# its hash, a non-root user, the SQLite database on a volume. docs/operating.md explains its use;
# compose.yaml runs it with PostgreSQL. tests/deploy/test_container.py checks these steps without a
# container engine by replaying them into a temporary folder.
#
#   docker build -t clearance .            (or podman build)
#   docker run --env-file .env -v clearance-data:/var/lib/clearance \
#     -v ./clearance.toml:/etc/clearance/clearance.toml:ro -p 127.0.0.1:3000:3000 clearance
ARG PYTHON_IMAGE=python:3.11-slim

# Clearance itself as a wheel. Only the wheel leaves this stage: the build tools stay behind.
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot bot
COPY workflows workflows
COPY storage storage
COPY pages pages
COPY demo demo
RUN python3 -m venv /opt/build && /opt/build/bin/python -m pip wheel --quiet --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 clearance \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/clearance --shell /usr/sbin/nologin clearance
COPY requirements.lock /opt/clearance-lock/requirements.lock
RUN python3 -m venv /opt/clearance \
    && /opt/clearance/bin/python -m pip install --quiet --require-hashes -r /opt/clearance-lock/requirements.lock
COPY --from=build /wheels /opt/clearance-wheels
# --no-deps: every dependency came from the lock above, checked against its hash.
RUN /opt/clearance/bin/python -m pip install --quiet --no-deps /opt/clearance-wheels/clearance-*.whl
RUN mkdir -p /var/lib/clearance /etc/clearance && chown clearance:clearance /var/lib/clearance

ENV PATH=/opt/clearance/bin:$PATH \
    DATABASE_URL=sqlite:////var/lib/clearance/clearance.db \
    CLEARANCE_CONFIG=/etc/clearance/clearance.toml
# The SQLite database (and its WAL) lives here; with PostgreSQL (compose.yaml) it stays empty.
VOLUME /var/lib/clearance
WORKDIR /var/lib/clearance
USER clearance
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status != 200)"]
# 0.0.0.0 inside the container only: the container's own network namespace. Publish the port on the
# host's loopback (-p 127.0.0.1:3000:3000) and put the reverse proxy in front of it.
CMD ["clearance", "serve", "--host", "0.0.0.0", "--port", "3000"]
