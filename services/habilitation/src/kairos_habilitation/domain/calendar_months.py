"""Calendar arithmetic in whole months, clamped to the month's end (K13, K14).

"3 months" of absence (K13) and a yearly anniversary (K14) are counted on the calendar: the same
day number so many months later, or the month's last day when that month is shorter. So
31 January plus 3 months is 30 April (29 April never; 1 May never), 30 November plus 3 months is
29 February in a leap year and 28 February otherwise, and 29 February plus 12 months is
28 February.
"""

import calendar
from datetime import date

MONTHS_PER_YEAR = 12


def add_months(day: date, months: int) -> date:
    """`day` moved `months` calendar months on, clamped to the last day of the target month."""
    index = day.year * MONTHS_PER_YEAR + (day.month - 1) + months
    year, month_index = divmod(index, MONTHS_PER_YEAR)
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(day.day, last_day))
