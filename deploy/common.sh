# Shared by run.sh and test.sh: installs what the app needs, idempotently.
# Source it from the repository root.

REPO_DIR="$(pwd)"
VENV="${VDI_VENV:-$REPO_DIR/.venv}"
# Bun lives outside the checkout so its path (and Reflex's install cache keyed on it) stays stable.
TOOLS_DIR="${VDI_TOOLS_DIR:-$HOME/.local/share/vdi-taxi}"
BUN_VERSION="1.4.4"

export REFLEX_TELEMETRY_ENABLED=false
export REFLEX_CHECK_LATEST_VERSION=false
export NPM_CONFIG_REGISTRY="${NPM_CONFIG_REGISTRY:-https://registry.npmjs.org}"
export REFLEX_BUN_PATH="$TOOLS_DIR/bun/node_modules/bun/bin/bun.exe"
export PYTHONUNBUFFERED=1

log() { printf '\033[1;36m[vdi-taxi]\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  # Installs the Debian packages that are missing; no-op when all are present.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  as_root apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_system_tools() {
  local need=()
  command -v python3 >/dev/null || need+=(python3)
  python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
  command -v node >/dev/null || need+=(nodejs)
  command -v npm >/dev/null || need+=(npm)
  command -v unzip >/dev/null || need+=(unzip)
  [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
}

ensure_venv() {
  local reqs="$1" stamp
  [ -x "$VENV/bin/python" ] || { log "creating virtualenv $VENV"; python3 -m venv "$VENV"; }
  stamp="$VENV/.installed-$(cat requirements.txt "$reqs" | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    log "pip install -r $reqs"
    # This machine's pip config names local mirrors that may be absent; their warnings are noise.
    "$VENV/bin/pip" install -q --upgrade pip 2> >(grep -v "is ignored" >&2)
    "$VENV/bin/pip" install -q -r "$reqs" 2> >(grep -v "is ignored" >&2)
    touch "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}

ensure_bun() {
  if [ ! -x "$REFLEX_BUN_PATH" ]; then
    log "installing bun $BUN_VERSION from the npm registry into $TOOLS_DIR/bun"
    mkdir -p "$TOOLS_DIR/bun"
    npm install --silent --prefix "$TOOLS_DIR/bun" "bun@$BUN_VERSION" >/dev/null
  fi
  "$REFLEX_BUN_PATH" --version >/dev/null
}

install_app() {
  ensure_system_tools
  ensure_venv "${1:-requirements.txt}"
  ensure_bun
}
