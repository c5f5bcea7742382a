#!/usr/bin/env bash
# Builds the two root filesystems the Containerfile starts FROM, as tarballs, from Debian
# packages only (no container registry is needed or reached):
#
#   tools/image/make-bases.sh OUT_DIR
#
#   OUT_DIR/build-base.tar  bookworm with apt and the -dev packages Herald builds with
#   OUT_DIR/run-base.tar    only the shared libraries build/herald links, tini, and the
#                           passwd/group entries of the numeric user 10001 (no shell, no apt);
#                           mount points /proc, /sys, /dev, /run and /etc/herald (the chart's
#                           config.json goes there)
#
# Both come from one mmdebstrap run each against the same suites, so the libraries the run
# stage carries are the versions the build stage compiled against. A tarball is kept while
# its recipe (the suites, packages and steps below, stamped in OUT_DIR/*.recipe) is unchanged;
# delete it to refresh the packages.
set -euo pipefail

out="${1:?usage: tools/image/make-bases.sh OUT_DIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$out"

suites=(
  "deb http://deb.debian.org/debian bookworm main"
  "deb http://deb.debian.org/debian bookworm-updates main"
  "deb http://deb.debian.org/debian-security bookworm-security main"
)

# What CMakeLists.txt finds, plus ccache for the image build's cache mount.
build_packages=(
  build-essential cmake pkg-config ccache
  libcaf-dev nlohmann-json3-dev prometheus-cpp-dev libjemalloc-dev libboost1.81-dev libssl-dev libjwt-dev
)

# `ldd build/herald` on bookworm: libc6, libstdc++6, libgcc-s1 (pulled in as dependencies),
# CAF (core, and io for the cluster), OpenSSL's libcrypto (the cluster's config digest),
# prometheus-cpp and jemalloc. tini is PID 1 (it forwards SIGTERM and reaps).
run_packages=(libcaf-core0.17 libcaf-io0.17 libssl3 libjwt0 libprometheus-cpp-core1.0 libjemalloc2 tini)

# The recipe of a tarball: what it is made from. Bump RUN_STEPS when the run base's hooks change.
RUN_STEPS=4
recipe() { printf '%s\n' "$@" "${suites[@]}"; }
fresh() { [[ -f "$1" && -f "$1.recipe" && "$(cat "$1.recipe")" == "$2" ]]; }

join_by_comma() { local IFS=,; echo "$*"; }

build_recipe="$(recipe "${build_packages[@]}")"
run_recipe="$(recipe "${run_packages[@]}" "steps $RUN_STEPS")"

if fresh "$out/build-base.tar" "$build_recipe"; then
  echo "make-bases: $out/build-base.tar is up to date"
else
  echo "make-bases: mmdebstrap build-base.tar (${build_packages[*]}) ..."
  mmdebstrap --quiet --mode=root --format=tar --variant=apt \
    --include="$(join_by_comma "${build_packages[@]}")" \
    --aptopt='APT::Install-Recommends "false"' \
    bookworm "$out/build-base.tar.part" "${suites[@]}"
  mv "$out/build-base.tar.part" "$out/build-base.tar"
  echo "$build_recipe" >"$out/build-base.tar.recipe"
fi

if fresh "$out/run-base.tar" "$run_recipe"; then
  echo "make-bases: $out/run-base.tar is up to date"
else
  echo "make-bases: mmdebstrap run-base.tar (${run_packages[*]}) ..."
  # extract: unpack the packages and their dependencies without dpkg or maintainer scripts
  # (none of these has one that matters); the hooks write what dpkg would have left behind
  # that the server needs: the linker cache, the user, an empty /tmp. (The extract variant
  # runs extract hooks only, never customize hooks.)
  mmdebstrap --quiet --mode=root --format=tar --variant=extract \
    --include="$(join_by_comma "${run_packages[@]}")" \
    --extract-hook='ldconfig -r "$1"' \
    --extract-hook='printf "root:x:0:0:root:/root:/sbin/nologin\nherald:x:10001:10001:herald:/nonexistent:/sbin/nologin\n" > "$1/etc/passwd"' \
    --extract-hook='printf "root:x:0:\nherald:x:10001:\n" > "$1/etc/group"' \
    --extract-hook='mkdir -p "$1/tmp" && chmod 1777 "$1/tmp"' \
    bookworm "$out/run-base.tar.part" "${suites[@]}"
  # What no server reads, and what mmdebstrap itself needed (apt, dpkg state), out of it: the
  # members present of this list, with everything below them.
  unwanted=(./usr/share/doc ./usr/share/man ./usr/share/lintian ./usr/share/locale
    ./usr/lib/x86_64-linux-gnu/gconv ./var/cache/apt ./var/lib/apt ./var/lib/dpkg ./etc/apt
    ./etc/dpkg ./etc/resolv.conf ./etc/hostname)
  mapfile -t present < <(tar tf "$out/run-base.tar.part" | sed 's#/$##' | grep -xF -f <(printf '%s\n' "${unwanted[@]}"))
  if ((${#present[@]})); then tar --delete -f "$out/run-base.tar.part" "${present[@]}"; fi
  # Mount points: mmdebstrap leaves /proc, /sys and /run out of its tarballs, and /etc/herald
  # is where the chart mounts config.json (a read-only root cannot grow them at run time).
  skeleton="$(mktemp -d)"
  mkdir -p "$skeleton/proc" "$skeleton/sys" "$skeleton/run" "$skeleton/etc/herald"
  tar --append --owner=0 --group=0 --numeric-owner -f "$out/run-base.tar.part" -C "$skeleton" \
    ./proc ./sys ./run ./etc/herald
  rm -rf "$skeleton"
  mv "$out/run-base.tar.part" "$out/run-base.tar"
  echo "$run_recipe" >"$out/run-base.tar.recipe"
fi
