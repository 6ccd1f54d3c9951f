"""minitransformer: a readable reference implementation of pre-training + fine-tuning.

Three tiers of the same mathematics, each checked against the one below it:

* ``minitransformer.reference`` — NumPy float64, forward and backward by hand (the ground truth);
* ``minitransformer.nn`` / ``models`` / ``optim`` — hand-written PyTorch modules;
* ``minitransformer.ops`` — custom C++/CUDA ops (``torch.ops.minitransformer.*``).

Importing the package is cheap; ``minitransformer.ops`` loads the compiled extension.
"""

__version__ = "0.1.0"
