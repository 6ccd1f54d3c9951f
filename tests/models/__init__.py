"""Tests for minitransformer.models."""
