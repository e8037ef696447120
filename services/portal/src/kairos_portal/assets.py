"""``python -m kairos_portal.assets``: copy the front-end files the pages use from the npm
packages (``services/portal/node_modules``, installed by ``make install``) into the served
static folder (``static/vendor``, not committed): Pico CSS, the DSFR's stylesheet and fonts,
htmx. Only these files: the DSFR's ``dist`` alone is 88 MB."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
NODE_MODULES = PACKAGE.parents[1] / "node_modules"
VENDOR = PACKAGE / "static" / "vendor"
FILES = {
    "@picocss/pico/css/pico.min.css": "pico/pico.min.css",
    "@gouvfr/dsfr/dist/dsfr.min.css": "dsfr/dsfr.min.css",
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
}
FOLDERS = {"@gouvfr/dsfr/dist/fonts": "dsfr/fonts"}


def copy_assets(node_modules: Path = NODE_MODULES, vendor: Path = VENDOR) -> list[Path]:
    copied = []
    for source, target in FILES.items():
        destination = vendor / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(node_modules / source, destination)
        copied.append(destination)
    for source, target in FOLDERS.items():
        shutil.copytree(node_modules / source, vendor / target, dirs_exist_ok=True)
        copied.append(vendor / target)
    return copied


def main() -> int:
    if not NODE_MODULES.is_dir():
        print(f"{NODE_MODULES} is missing: run `make install`", file=sys.stderr)  # noqa: T201
        return 1
    copy_assets()
    return 0


if __name__ == "__main__":
    sys.exit(main())
