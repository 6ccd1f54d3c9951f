"""Tests for minitransformer.data.text."""
