"""Tests for minitransformer.train."""
