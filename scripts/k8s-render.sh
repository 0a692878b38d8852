#!/usr/bin/env bash
# Renders every overlay of deploy/k8s with the real kustomize (kubectl kustomize, v5) into
# deploy/k8s/rendered/OVERLAY.yaml. Run it after changing deploy/k8s; test/k8s.test.ts checks
# that its in-process renderer (scripts/lib/kustomize.ts) agrees with these files and validates them.
# Needs kubectl >= 1.27 (kustomize v5); Debian's kubernetes-client (1.20) is too old for `patches:`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v kubectl >/dev/null || { echo "k8s-render: kubectl not found (needs kubectl >= 1.27 with kustomize v5)" >&2; exit 1; }
mkdir -p deploy/k8s/rendered
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  {
    echo "# Rendered by scripts/k8s-render.sh with $(kubectl version --client 2>/dev/null | grep -i kustomize | tr -d '\n') from deploy/k8s/overlays/$name. Do not edit."
    kubectl kustomize "$overlay"
  } > "deploy/k8s/rendered/$name.yaml"
  echo "deploy/k8s/rendered/$name.yaml: $(grep -c '^kind:' "deploy/k8s/rendered/$name.yaml") objects"
done
# The repository's formatter indents lists; the content is kustomize's.
pnpm exec biome format --write deploy/k8s/rendered >/dev/null
