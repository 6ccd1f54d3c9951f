"""Tests for the vision pipeline: image data, the CNN, transfer training, the `vision` command."""
