#!/usr/bin/env bash
# What a fresh machine needs before `make` installs the rest (README, "Quick start"): checked
# before anything is installed. Each missing one is named with the Debian package that provides
# it. Run as root on Debian/Ubuntu, the packages are installed (apt-get update, then apt-get
# install -y); otherwise the command to run is printed. Exit 1 while anything is missing.
#
#   deploy/local/prerequisites.sh [--check-only]     (PYTHON: the interpreter, default python3)
set -uo pipefail

PYTHON="${PYTHON:-python3}"
CHECK_ONLY=0
[[ "${1:-}" == "--check-only" ]] && CHECK_ONLY=1

missing=()   # "what: why" lines
packages=()  # Debian packages that provide them

need() {  # need <Debian package> <what is missing>
    missing+=("$2")
    [[ " ${packages[*]} " == *" $1 "* ]] || packages+=("$1")
}

java_major() {  # the major version `java -version` reports ("17.0.15" -> 17, "1.8.0" -> 8)
    local version
    version=$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
    version=${version#1.}
    echo "${version%%[.+-]*}"
}

check() {
    missing=()
    packages=()
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        need python3 "$PYTHON: not found (Python 3.11 or later)"
    elif ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        need python3 "$PYTHON: $("$PYTHON" --version 2>&1), 3.11 or later is needed"
    elif ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
        need python3-venv "$PYTHON: no venv/ensurepip module (uv is installed into a venv)"
    fi
    if ! command -v java >/dev/null 2>&1; then
        need default-jre-headless "java: not found (Java 17 or later runs Kafka)"
    else
        local major
        major=$(java_major)
        if [[ ! "$major" =~ ^[0-9]+$ ]] || ((major < 17)); then
            need default-jre-headless "java: version ${major:-unknown}, 17 or later runs Kafka"
        fi
    fi
    command -v mvn >/dev/null 2>&1 || need maven "mvn: not found (Maven resolves Kafka's jars)"
    command -v openssl >/dev/null 2>&1 ||
        need openssl "openssl: not found (the Kafka SASL/TLS tests make certificates with it)"
    command -v git >/dev/null 2>&1 ||
        need git "git: not found (the schema-compatibility gate reads the history)"
    command -v timeout >/dev/null 2>&1 ||
        need coreutils "timeout: not found (make test keeps its time budget with it)"
    command -v npm >/dev/null 2>&1 ||
        need npm "npm: not found (the portal's front-end packages: Pico CSS, the DSFR, htmx, axe-core)"
    if [[ $(id -u) == 0 ]] && ! command -v useradd >/dev/null 2>&1; then
        need passwd "useradd: not found (as root, PostgreSQL runs as a system user it creates)"
    fi
    ((${#missing[@]} == 0))
}

report() {
    echo "make: missing prerequisites:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
}

check && exit 0
report
if ((CHECK_ONLY == 0)) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "make: installing them (root): apt-get install -y ${packages[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update && apt-get install -y --no-install-recommends "${packages[@]}"; }; then
        echo "make: apt-get failed (above): install ${packages[*]} and run make again" >&2
        exit 1
    fi
    check && { echo "make: prerequisites installed" >&2; exit 0; }
    report
    echo "make: the packages did not provide everything above; install it and run make again" >&2
    exit 1
fi
if command -v apt-get >/dev/null 2>&1; then
    sudo=$([[ $(id -u) == 0 ]] || echo "sudo ")
    echo "Install them with: ${sudo}apt-get update && ${sudo}apt-get install -y ${packages[*]}" >&2
else
    echo "Install them (Debian packages: ${packages[*]}) with your system's package manager," >&2
    echo "then run make again." >&2
fi
exit 1
