#!/usr/bin/env bash
# Installs what Herald needs to build and test, and nothing that is already there.
#
#   tools/install-deps.sh [--browser] [--bench] [--metrics] [--image] [--netns] [--fuzz] [--no-npm]
#
# Debian packages are checked one by one with `dpkg -s`; `apt-get update` runs only when
# something must be installed. Then `npm ci` runs at the repository root when node_modules
# is missing or older than package-lock.json. Safe to run any number of times; works as
# root, or through sudo when not root. Never asks a question (DEBIAN_FRONTEND=noninteractive).
set -euo pipefail

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<'EOF'
usage: tools/install-deps.sh [--browser] [--bench] [--metrics] [--image] [--netns] [--fuzz] [--no-npm]

Installs the Debian packages that build and test Herald, then the npm dev dependencies.
  --browser   also chromium (browser tests of the chat page)
  --bench     also nginx-light, libnginx-mod-nchan, wrk and gnuplot-nox (bench/run)
  --metrics   also prometheus (scrape tests)
  --image     also buildah and mmdebstrap (make image, make test-image)
  --netns     also dnsmasq-base and iproute2 (pods in network namespaces: make test-rollout)
  --fuzz      also clang and its runtime libraries (libFuzzer, ASan, UBSan: make fuzz)
  --no-npm    skip `npm ci`
EOF
}

# Always needed to build, format, lint and unit-test. Boost is handled apart (see below).
packages=(
  build-essential cmake g++ make pkg-config git curl unzip openssl
  libcaf-dev nlohmann-json3-dev prometheus-cpp-dev libjemalloc-dev libssl-dev libjwt-dev
  libgtest-dev libgmock-dev
  clang-format clang-tidy
)
with_npm=1

while (($#)); do
  case "$1" in
    --browser) packages+=(chromium) ;;
    --bench) packages+=(nginx-light libnginx-mod-nchan wrk gnuplot-nox) ;;
    --metrics) packages+=(prometheus) ;;
    --image) packages+=(buildah mmdebstrap iproute2 util-linux) ;;
    --netns) packages+=(dnsmasq-base iproute2 util-linux) ;;
    # libFuzzer and the sanitizer runtimes are in libclang-rt-dev, only recommended by clang.
    --fuzz) packages+=(clang libclang-rt-dev) ;;
    --no-npm) with_npm=0 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive

# Run as root, else through sudo if there is one. Resolved lazily: a machine that already has
# everything needs neither.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n env DEBIAN_FRONTEND=noninteractive "$@" ||
      die "'sudo $*' failed (sudo may need a password; run this script as root instead)"
  else
    die "not root and no sudo: cannot run '$*'"
  fi
}

# Returns 0 when the package is installed (not merely known or half-configured).
is_installed() {
  dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

# Returns 0 when apt knows an installable version of the package (after `apt-get update`).
has_candidate() {
  local candidate
  candidate="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')"
  [[ -n "$candidate" && "$candidate" != "(none)" ]]
}

apt_updated=0
apt_update_once() {
  ((apt_updated)) && return 0
  say "running apt-get update ..."
  as_root apt-get -qq -o DPkg::Lock::Timeout=300 update
  apt_updated=1
}

apt_install() {
  apt_update_once
  as_root apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300 "$@"
}

if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  die "this script expects Debian (dpkg and apt-get)"
fi

# --- Debian packages -------------------------------------------------------------------------
missing=()
for p in "${packages[@]}"; do
  is_installed "$p" || missing+=("$p")
done

if ((${#missing[@]})); then
  for p in "${missing[@]}"; do
    say "installing $p ..."
  done
  apt_install "${missing[@]}"
else
  say "all ${#packages[@]} Debian packages already installed"
fi

# Boost: prefer 1.81 (what bookworm's Beast is tested with here); fall back to the distribution
# default libboost-dev (1.74 on bookworm, the minimum CMakeLists.txt accepts).
if is_installed libboost1.81-dev; then
  say "boost: libboost1.81-dev already installed"
else
  apt_update_once
  if has_candidate libboost1.81-dev && say "installing libboost1.81-dev ..." &&
    apt_install libboost1.81-dev; then
    say "boost: using libboost1.81-dev"
  elif is_installed libboost-dev; then
    say "boost: libboost1.81-dev cannot be installed; using the installed libboost-dev (fallback)"
  else
    say "boost: libboost1.81-dev cannot be installed; installing libboost-dev instead (fallback) ..."
    apt_install libboost-dev
    say "boost: using libboost-dev $(dpkg-query -W -f='${Version}' libboost-dev)"
  fi
fi

# --- npm dev dependencies ----------------------------------------------------------------------
if ((with_npm)); then
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    # The machine image carries Node.js 20; Debian's own nodejs is older than some of our
    # dev dependencies want, so this is a last resort and says so.
    say "installing nodejs npm from Debian (node was missing; Node.js >= 20 is expected) ..."
    apt_install nodejs npm
  fi
  cd "$repo_root"
  [[ -f package-lock.json ]] || die "package-lock.json is missing at $repo_root"
  # npm writes node_modules/.package-lock.json on every install; it is the freshness stamp.
  if [[ ! -d node_modules || ! -f node_modules/.package-lock.json ||
    package-lock.json -nt node_modules/.package-lock.json ||
    package.json -nt node_modules/.package-lock.json ]]; then
    say "running npm ci ..."
    # playwright-core never downloads a browser; the variable makes sure nothing else does.
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  else
    say "node_modules is up to date with package-lock.json"
  fi
fi

say "done"
