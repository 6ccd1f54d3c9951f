"""Images: labelled image sets as uint8 arrays, and the transforms that turn them into model input.

* ``idx.py``: the IDX file format of MNIST and Fashion-MNIST;
* ``sets.py``: Fashion-MNIST, MNIST-5k and scikit-learn's 8x8 digits as ``ImageSet``s;
* ``transforms.py``: uint8 to float, resizing to 28x28, normalisation, random shifts.
"""
