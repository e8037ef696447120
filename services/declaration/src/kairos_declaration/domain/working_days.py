"""Working days of a zone: Monday to Friday, the zone's public holidays excluded (K18, K19).

The monthly attendance deadline counts working days (the 5th working day of the next month by
default, K18), and the hours a month allows count the working days a trainee could attend
(K19). Both use the holidays of the OF's zone (Alsace-Moselle adds Good Friday and 26 December;
each overseas département has its own), from `kairos_shared.zones.public_holidays`.
"""

from datetime import date, timedelta
from typing import Final

from kairos_declaration.domain.months import Month
from kairos_shared import zones
from kairos_shared.zones import Zone

DAY: Final = timedelta(days=1)


def is_working_day(day: date, zone: Zone) -> bool:
    """Whether `day` is a Monday to Friday that is no public holiday in `zone`."""
    return zones.is_working_day(day, zone)


def working_days(first: date, last: date, zone: Zone) -> int:
    """How many working days of `zone` lie between `first` and `last` inclusive (0 if none)."""
    count = 0
    day = first
    while day <= last:
        count += is_working_day(day, zone)
        day += DAY
    return count


def nth_working_day(month: Month, n: int, zone: Zone) -> date:
    """The `n`-th working day of `zone` counted from the 1st of `month` (1 is the first)."""
    return zones.nth_working_day(month.year, month.month, n, zone)
