"""``python -m kairos_identity``: run the identity service until SIGINT or SIGTERM."""

from kairos_identity.bootstrap import create_app
from kairos_identity.config import IdentitySettings
from kairos_shared.runtime import serve


def main() -> None:
    settings = IdentitySettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
