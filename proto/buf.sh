#!/usr/bin/env bash
# buf lint and buf breaking over a protoc-built image (the buf registry is out of reach).
# `breaking` compares against the newest release tag (v*), and says so when none exists yet.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BUF="$(dirname "$PY")/buf"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
paths=(); while IFS= read -r p; do paths+=(--path "$p"); done < <(cd proto && find fintech -name '*.proto' | sort)
"$PY" proto/generate.py --out "$work/gen" --image "$work/image.binpb"
case "${1:-lint}" in
  lint)
    "$BUF" lint "$work/image.binpb" --config buf.yaml "${paths[@]}"
    echo "buf lint: clean"
    ;;
  breaking)
    tag=$(git tag --list 'v*' --sort=-v:refname | head -n1)
    if [ -z "$tag" ]; then echo "buf breaking: no release tag yet (v*); nothing to compare against"; exit 0; fi
    git worktree add -q --detach "$work/base" "$tag"
    trap 'git worktree remove --force "$work/base" >/dev/null 2>&1; rm -rf "$work"' EXIT
    (cd "$work/base" && "$OLDPWD/$PY" proto/generate.py --out "$work/base-gen" --image "$work/base.binpb")
    "$BUF" breaking "$work/image.binpb" --against "$work/base.binpb" --config buf.yaml "${paths[@]}"
    echo "buf breaking: no breaking change against $tag"
    ;;
esac
