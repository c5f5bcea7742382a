#!/usr/bin/env bash
# Builds Herald's container image with buildah (chroot isolation: no daemon, no registry):
#
#   tools/image/build.sh [TAG]          (make image; TAG defaults to the project version)
#
# Makes the base tarballs first (tools/image/make-bases.sh, kept while fresh), then
# `buildah bud` over the Containerfile, tags localhost/herald:TAG, and writes the image as an
# OCI archive to build/image/herald-TAG.oci.tar, ready for `skopeo copy` to a registry or
# `ctr images import` / `kind load image-archive` on a node.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
version="$(sed -n 's/^project(herald VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
tag="${1:-$version}"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
out="build/image"

for tool in buildah mmdebstrap; do
  command -v "$tool" >/dev/null || {
    echo "image: $tool is missing: run tools/install-deps.sh --image" >&2
    exit 1
  }
done

tools/image/make-bases.sh "$out"

echo "image: buildah bud localhost/herald:$tag (commit $commit) ..."
buildah bud --isolation chroot --layers \
  --build-arg HERALD_COMMIT="$commit" \
  --label org.opencontainers.image.version="$tag" \
  --label org.opencontainers.image.revision="$commit" \
  -f Containerfile -t "localhost/herald:$tag" .

rm -f "$out/herald-$tag.oci.tar"
buildah push --quiet "localhost/herald:$tag" "oci-archive:$out/herald-$tag.oci.tar:herald:$tag"
echo "image: localhost/herald:$tag, $(du -h "$out/herald-$tag.oci.tar" | cut -f1) in $out/herald-$tag.oci.tar"
