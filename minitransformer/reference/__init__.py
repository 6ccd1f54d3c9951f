"""NumPy float64 references: forward and backward of every op, written out by hand.

The ground truth every other tier is tested against. This package imports NumPy only.
"""
