# Shared by the setup scripts: find the project and make its virtualenv.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${NOVAGESTAO_VENV:-$ROOT/.venv}"
VAR="$ROOT/var"
PYTHON="$VENV/bin/python"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

find_base_python() {
    for candidate in python3.11 python3.12 python3.13 python3.10 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            command -v "$candidate"; return 0
        fi
    done
    return 1
}

# Create or refresh the virtualenv when the pinned requirements change.
ensure_venv() {
    local stamp="$VENV/.novagestao-requirements" wanted
    wanted="$(cat "$ROOT/setup/requirements-build.txt" "$ROOT/setup/requirements.txt" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
    if [ -x "$PYTHON" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        return 0
    fi
    if [ ! -x "$PYTHON" ]; then
        local base
        base="$(find_base_python)" || {
            echo "Python 3.10 or newer is needed; install it (Debian: apt-get install python3 python3-venv)." >&2
            exit 1; }
        if ! "$base" -m venv "$VENV" 2>/dev/null; then
            log "Installing python3-venv"
            apt_install python3-venv && "$base" -m venv "$VENV"
        fi
    fi
    log "Installing the pinned Python packages into $VENV"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check -r "$ROOT/setup/requirements-build.txt"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check -r "$ROOT/setup/requirements.txt"
    # compat mode puts the project folder on sys.path, as trytond expects
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps \
        --no-build-isolation --config-settings editable_mode=compat \
        -e "$ROOT" > "$VENV/novagestao-install.log" 2>&1 \
        || { cat "$VENV/novagestao-install.log" >&2; exit 1; }
    echo "$wanted" > "$stamp"
}

apt_install() {
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >/dev/null && \
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# Debian's Chromium, for the browser test and the screenshots.
ensure_chromium() {
    CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
    if [ ! -x "$CHROMIUM" ]; then
        log "Installing Chromium"
        apt_install chromium fonts-dejavu-core fonts-liberation
    fi
    export CHROMIUM
}
