"""Tests for minitransformer.data.labelled."""
