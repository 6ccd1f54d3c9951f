"""Labelled texts for classification.

* ``sets.py``: the labelled sets read from installed package data, as ``LabelledTexts``;
* ``files.py``: labelled texts from your own CSV or JSON-lines files;
* ``splits.py``: fixed, seeded held-out and three-way splits, and the guard that keeps test texts out;
* ``budget.py``: the stratified label budget a classifier is trained on;
* ``batches.py``: ``[CLS] text [SEP]`` batches for classification.
"""
