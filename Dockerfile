# syntax=docker/dockerfile:1
# One image for the four role apps (registry, issuer, wallet, verifier), built in stages:
#   assets  - npm ci, then the JSON-LD contexts, bundled scripts, KRDS styles and font subsets (re)built and checked
#   build   - the Python wheels of the project and its dependencies
#   app     - the runtime: Python 3.13, Debian's fonts-nanum (certificate PDFs), no compiler, no npm,
#             a non-root user; each role runs under its production command (see docker-compose.yml)
#   anvil   - a local EVM node for development anchoring (Besu QBFT in production: docs/evm-anchoring.md)
#   acapy   - ACA-Py 1.7 sidecar for the DIDComm / ACA-Py profile, in its own environment

ARG PYTHON=python:3.13-slim-bookworm
ARG NODE=node:20-bookworm-slim

FROM ${NODE} AS node

# the build scripts are Python (fontTools subsets the fonts); node and npm come from the official image
FROM ${PYTHON} AS assets
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && pip install --no-cache-dir "fonttools>=4.55" "brotli>=1.1"
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# everything the apps serve from npm packages is rebuilt here from node_modules (never fetched at run
# time): the JSON-LD contexts, the bundled scripts, the KRDS styles and the Pretendard GOV subsets;
# then checked against the committed copies, so the image serves exactly what the tests saw
RUN python scripts/vendor_contexts.py && python scripts/bundle_js.py && python scripts/build_styles.py \
    && python scripts/vendor_contexts.py --check && python scripts/bundle_js.py --check && python scripts/build_styles.py --check \
    && node scripts/compile_contract.mjs --check

FROM ${PYTHON} AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY --from=assets /src /src
RUN rm -rf node_modules && pip wheel --no-cache-dir --wheel-dir /wheels .

FROM ${PYTHON} AS app
RUN apt-get update && apt-get install -y --no-install-recommends fonts-nanum curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 workcred \
    && useradd --system --uid 10001 --gid workcred --home-dir /var/lib/workcred --create-home workcred
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels workcred && rm -rf /wheels
ENV PYTHONUNBUFFERED=1 \
    WORKCRED_DATA_DIR=/var/lib/workcred \
    WORKCRED_FONT_DIR=/usr/share/fonts/truetype/nanum \
    PROMETHEUS_MULTIPROC_DIR=/tmp/workcred-metrics
USER workcred
WORKDIR /var/lib/workcred
EXPOSE 8700 8701 8702 8703
# the command is set per role in docker-compose.yml (README "Production")
CMD ["gunicorn", "--version"]

FROM ${NODE} AS anvil
WORKDIR /opt/anvil
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=optional >/dev/null 2>&1 || npm ci --no-audit --no-fund
USER node
ENTRYPOINT ["/opt/anvil/node_modules/.bin/anvil"]

FROM ${PYTHON} AS acapy
RUN useradd --system --uid 10002 --create-home acapy \
    && pip install --no-cache-dir "acapy-agent==1.7.0"
COPY agents/acapy/argfiles /etc/acapy
USER acapy
ENTRYPOINT ["aca-py"]
