"""The one feature definition that training, batch scoring and the serving app share.

A row's features are the quantities of the `lags` weeks before it, the week of the year
(as sine and cosine, so week 52 sits next to week 1), and that week's price and advert,
which a store knows in advance. Keeping this in one function is what stops the
real-time service from drifting away from batch scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

WEEKS_PER_YEAR = 52.1775


def calendar_features(weeks: Sequence[date]) -> np.ndarray:
    day_of_year = np.array([week.timetuple().tm_yday for week in weeks], dtype=float)
    angle = 2 * np.pi * day_of_year / (7 * WEEKS_PER_YEAR)
    return np.column_stack([np.sin(angle), np.cos(angle)])


def feature_names(lags: int) -> list[str]:
    return [f"lag_{lag}" for lag in range(1, lags + 1)] + ["week_sin", "week_cos", "Price", "Advert"]


def series_features(quantity: np.ndarray, weeks: Sequence[date], price: np.ndarray, advert: np.ndarray, lags: int) -> np.ndarray:
    """Features for rows lags..n-1 of one series sorted by week (earlier rows lack their lags)."""
    rows = len(quantity) - lags
    lagged = np.column_stack([quantity[lags - lag : lags - lag + rows] for lag in range(1, lags + 1)])
    return np.column_stack([lagged, calendar_features(weeks[lags:]), price[lags:], advert[lags:]]).astype(float)


def request_features(recent_quantities: Sequence[float], week: date, price: float, advert: int) -> np.ndarray:
    """Features of one future week from its most recent quantities (oldest first), as the service receives them."""
    lagged = np.asarray(recent_quantities, dtype=float)[::-1]
    return np.concatenate([lagged, calendar_features([week])[0], [price, advert]])[None, :]
