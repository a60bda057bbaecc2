#!/usr/bin/env bash
# Installs what building pipe and running its tests need on Debian or Ubuntu: libyaml,
# libcurl, SQLite and libpq to build; the PostgreSQL server for the tests of
# `--queue postgres://...` (they start their own server, as an unprivileged user); from PyPI,
# the MCP servers the tool-server tests start (the official Python SDK, with which
# Tests/testdata/mcp/server.py is written, and two reference servers); libxml2, for
# FoundationXML, with which the tests read `pipe test --format junit` as CI systems do;
# headless Chromium, which renders `pipe report`'s HTML in the report tests; the official
# Anthropic and OpenAI SDKs, which drive the fake server's batch APIs in FakeLLMBatchTests;
# the official OTLP protobuf definitions (opentelemetry-proto, with protobuf) with which the
# OTLP receiver of the export tests, Tests/testdata/otel/receiver.py, decodes what pipe sends.
# Idempotent and quiet: nothing is downloaded when everything is installed already.
# Runs as root, or through sudo when it is available.
set -euo pipefail
packages=(libyaml-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev libpq-dev postgresql libxml2 chromium)
python_packages=(mcp==2.3.0 mcp-server-time==2026.10.19 mcp-server-git==2026.10.19 anthropic==2.10.0 openai==3.51.0 opentelemetry-proto==1.45.2)

missing_python=()
for requirement in "${python_packages[@]}"; do
    installed=$(python3 -c 'import importlib.metadata, sys; print(importlib.metadata.version(sys.argv[1]))' "${requirement%%==*}" 2>/dev/null || true)
    [ "$installed" = "${requirement#*==}" ] || missing_python+=("$requirement")
done
[ ${#missing_python[@]} -eq 0 ] || python3 -m pip install --quiet --disable-pip-version-check "${missing_python[@]}"

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "test-deps.sh: installing ${missing[*]} needs root; run it as root or install sudo" >&2
    exit 1
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
