"""``python -m kairos_habilitation``: run the habilitation service until SIGINT or SIGTERM."""

from kairos_habilitation.bootstrap import create_app
from kairos_habilitation.config import HabilitationSettings
from kairos_shared.runtime import serve


def main() -> None:
    settings = HabilitationSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
