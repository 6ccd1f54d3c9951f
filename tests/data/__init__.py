"""Tests for minitransformer.data."""
