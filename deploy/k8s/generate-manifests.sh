#!/usr/bin/env bash
# Regenerates the Kubernetes manifests (and the other registry-generated files: Prometheus
# targets, compose services, the .env.example port section, the Grafana dashboard) from
# nova_runtime::SERVICES. A thin wrapper: the generator is crates/nova-deploygen.
#   deploy/k8s/generate-manifests.sh           # write
#   deploy/k8s/generate-manifests.sh --check   # fail if a committed file differs
set -euo pipefail
cd "$(dirname "$0")/../.."
exec cargo xtask gen-deploy "$@"
