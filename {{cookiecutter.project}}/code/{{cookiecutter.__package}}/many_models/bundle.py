"""The bundle: every series' model in one file, with an index that finds one in O(1).

Why a bundle: registering one model per series (the accelerator's way) costs one registry
call per series to write and one query per series to find, and a registry throttles long
before 10,000 models. Here a training run writes one `models.bin` (the pickled estimators
back to back) and one `index.json` (series key -> byte offset, length, accuracy, status),
logged as one MLflow model version. A reader maps the key to its bytes with one dict
lookup and one positioned read, so it can load a single series without reading the rest.
"""

from __future__ import annotations

import json
import os
import pickle
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

MODELS_FILE = "models.bin"
INDEX_FILE = "index.json"
FORMAT_VERSION = 1

SeriesKey = tuple[int, str]


@dataclass(frozen=True)
class SeriesEntry:
    offset: int
    length: int
    accuracy: float
    status: str


def key_text(key: SeriesKey) -> str:
    return f"{key[0]}|{key[1]}"


def write_bundle(
    folder: Path, models: Iterable[tuple[SeriesKey, bytes, float, str]], metadata: Mapping[str, object]
) -> dict[SeriesKey, SeriesEntry]:
    """Write (key, pickled model, accuracy, status) records; return the index written."""
    folder.mkdir(parents=True, exist_ok=True)
    index: dict[SeriesKey, SeriesEntry] = {}
    offset = 0
    with (folder / MODELS_FILE).open("wb") as models_file:
        for key, payload, accuracy, status in models:
            models_file.write(payload)
            index[key] = SeriesEntry(offset, len(payload), float(accuracy), status)
            offset += len(payload)
    document = {
        "format": FORMAT_VERSION,
        "metadata": dict(metadata),
        "series": [[store, brand, entry.offset, entry.length, entry.accuracy, entry.status] for (store, brand), entry in index.items()],
    }
    (folder / INDEX_FILE).write_text(json.dumps(document), encoding="utf-8")
    return index


class BundleReader:
    """Reads single series models from a bundle folder; safe to share between threads."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        document = json.loads((self.folder / INDEX_FILE).read_text(encoding="utf-8"))
        if document.get("format") != FORMAT_VERSION:
            raise ValueError(f"{self.folder}: bundle format {document.get('format')} is not {FORMAT_VERSION}")
        self.metadata: dict[str, object] = document["metadata"]
        self.index: dict[SeriesKey, SeriesEntry] = {
            (int(store), str(brand)): SeriesEntry(int(offset), int(length), float(accuracy), str(status))
            for store, brand, offset, length, accuracy, status in document["series"]
        }
        self._descriptor = os.open(self.folder / MODELS_FILE, os.O_RDONLY)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, key: SeriesKey) -> bool:
        return key in self.index

    def entry(self, key: SeriesKey) -> SeriesEntry:
        try:
            return self.index[key]
        except KeyError:
            raise UnknownSeries(key) from None

    def model_bytes(self, key: SeriesKey) -> bytes:
        entry = self.entry(key)
        return os.pread(self._descriptor, entry.length, entry.offset)

    def load_model(self, key: SeriesKey):
        return pickle.loads(self.model_bytes(key))

    def predict_series(self, key: SeriesKey, features: np.ndarray) -> np.ndarray:
        return self.load_model(key).predict(features)

    def accuracies(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(store, brand, entry.accuracy, entry.status) for (store, brand), entry in self.index.items()],
            columns=["Store", "Brand", "accuracy", "status"],
        )

    def close(self) -> None:
        os.close(self._descriptor)


class UnknownSeries(KeyError):
    def __init__(self, key: SeriesKey):
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no model for Store {self.key[0]}, Brand '{self.key[1]}' in this bundle"
