"""The backends of every layer, loss and model, and the one resolver of a backend's name.

    "eager"  the equations in torch ops, the teaching path (attention: nn/attention.py:eager_attention, every
             mask and dropout; cross-entropy: nn/losses.py)
    "torch"  PyTorch's own: ``F.scaled_dot_product_attention`` (every mask, dropout), ``F.cross_entropy``,
             ``F.linear``
    "fused"  our compiled ops (``minitransformer.ops``): the flash-attention kernel (``is_causal`` and
             ``key_padding_mask`` only, no attention dropout), the fused cross-entropy, LayerNorm, bias + GELU
             and dropout + residual; ``ops.linear`` for the linear layers (oneDNN's GEMM, no GEMM of our own)
    "auto"   "fused" when the compiled extension loads, else "eager"

``resolve_backend`` turns a requested name into one of ``BACKENDS`` — at construction, so that the layer's
repr shows what runs and a request that cannot run fails before any training step.
"""

BACKENDS = ("eager", "torch", "fused")


def load_fused_op(name):
    """``minitransformer.ops.<name>`` (``"attention"``, ``"cross_entropy"``); ImportError (one line, with the
    reason) when the compiled extension is not built or does not load."""
    from minitransformer import ops  # here, not at the top: only "fused" needs the compiled extension
    return getattr(ops, name)


def resolve_backend(name):
    """The backend that runs for the requested ``name`` ("auto" or one of ``BACKENDS``)."""
    if name == "reference":  # the eager backend's former name: configs saved before the rename store it
        name = "eager"
    if name == "auto":
        # Not built: eager runs, and the layers' repr says so. A build that loads but does not match
        # ops/*.py raises its RuntimeError here instead of silently running the slow path.
        try:
            load_fused_op("attention")
        except ImportError:
            return "eager"
        return "fused"
    if name not in BACKENDS:
        raise ValueError(f"backend must be 'auto' or one of {BACKENDS}, got {name!r}")
    if name == "fused":
        try:
            load_fused_op("attention")
        except ImportError as error:
            raise RuntimeError(f"backend='fused' needs the compiled extension, which did not load: {error}") \
                from None
    return name


def on_device(backend, x):
    """The backend that runs for ``x`` in a layer whose fused op's CUDA kernels have run only under the emulator
    so far (LayerNorm, bias + GELU, dropout, cross-entropy): "fused" on a CUDA tensor runs PyTorch's own kernel
    ("torch") instead."""
    return "torch" if backend == "fused" and x.is_cuda else backend


def check_attention_dropout(backend, dropout_p):
    """ValueError when ``backend`` cannot apply attention dropout ``dropout_p`` (the fused kernel has none)."""
    if backend == "fused" and dropout_p > 0.0:
        raise ValueError(f"backend='fused' has no attention dropout, got dropout {dropout_p}; use 0.0 "
                         "(on the encoder/decoder layers: attention_dropout=0.0) or backend='eager'")
