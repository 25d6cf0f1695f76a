"""Load intent training data: Rasa 3.x NLU YAML, CSV/TSV and JSONL.

The loader turns files into plain :class:`Example` records (annotations stripped,
entity spans indexed into the plain text) and, for training, into a Hugging Face
``DatasetDict``. It is strict by default: the first malformed line raises a
:class:`DataFormatError` naming the file and line. Validation (``nlu.validate``)
runs the same parser leniently, passing a ``problems`` list that collects every
problem instead.

One module per job, every public name re-exported here:

* ``types``: :class:`Example`, :class:`EntitySpan`, :class:`NluData`,
  :class:`Problem` and the errors;
* ``annotations``: :func:`parse_annotated`, the ``[value](entity)`` parser;
* ``rasa_yaml``: the Rasa NLU YAML reader and the one writer (:func:`write_rasa_nlu`);
* ``tables``: the CSV/TSV and JSONL readers;
* ``discovery``: :func:`find_data_files`, :func:`read_splits`, :func:`read_nlu`;
* ``hf``: :func:`load_dataset`, which imports ``datasets`` only when called.

>>> data = read_nlu("training_data")  # doctest: +SKIP
>>> data.intents[:3]  # doctest: +SKIP
['cancel_order', 'change_order', 'check_refund_policy']
"""

from __future__ import annotations

from nlu.data.annotations import parse_annotated
from nlu.data.discovery import SKIPPED_DIRS, find_data_files, read_nlu, read_splits
from nlu.data.hf import load_dataset
from nlu.data.rasa_yaml import (
    NLU_KEYS,
    RASA_VERSION,
    YAML_SUFFIXES,
    clean_text,
    format_example,
    render_rasa_nlu,
    write_rasa_nlu,
)
from nlu.data.tables import LABEL_COLUMNS, TABLE_SUFFIXES, TEXT_COLUMNS
from nlu.data.types import (
    DataFormatError,
    DataNotFoundError,
    EntitySpan,
    Example,
    NluData,
    Problem,
    Severity,
    Split,
    TooFewLabelsError,
    UnknownLabelError,
)

__all__ = [
    "LABEL_COLUMNS",
    "NLU_KEYS",
    "RASA_VERSION",
    "SKIPPED_DIRS",
    "TABLE_SUFFIXES",
    "TEXT_COLUMNS",
    "YAML_SUFFIXES",
    "DataFormatError",
    "DataNotFoundError",
    "EntitySpan",
    "Example",
    "NluData",
    "Problem",
    "Severity",
    "Split",
    "TooFewLabelsError",
    "UnknownLabelError",
    "clean_text",
    "find_data_files",
    "format_example",
    "load_dataset",
    "parse_annotated",
    "read_nlu",
    "read_splits",
    "render_rasa_nlu",
    "write_rasa_nlu",
]
