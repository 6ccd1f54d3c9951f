"""Tests for minitransformer.data.pretraining."""
