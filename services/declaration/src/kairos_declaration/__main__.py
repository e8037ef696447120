"""``python -m kairos_declaration``: run the declaration service until SIGINT or SIGTERM."""

from kairos_declaration.bootstrap import create_app
from kairos_declaration.config import DeclarationSettings
from kairos_shared.runtime import serve


def main() -> None:
    settings = DeclarationSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
