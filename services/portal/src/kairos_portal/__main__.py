"""``python -m kairos_portal``: run the portal until SIGINT or SIGTERM."""

from kairos_portal.bootstrap import create_app, serve
from kairos_portal.config import PortalSettings


def main() -> None:
    settings = PortalSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
