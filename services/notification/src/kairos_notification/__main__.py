"""``python -m kairos_notification``: run the notification service until SIGINT or SIGTERM."""

from kairos_notification.bootstrap import create_app
from kairos_notification.config import NotificationSettings
from kairos_shared.runtime import serve


def main() -> None:
    settings = NotificationSettings()
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
