"""The attention backends of every layer and model, and the one resolver of a backend's name.

    "eager"  the attention equations in torch ops (nn/attention.py:eager_attention); every mask, dropout
    "torch"  ``F.scaled_dot_product_attention``; every mask, dropout
    "fused"  ``minitransformer.ops.attention``, our compiled flash-attention kernel: ``is_causal`` and
             ``key_padding_mask`` only, no attention dropout
    "auto"   "fused" when the compiled extension loads, else "eager"

``resolve_backend`` turns a requested name into one of ``BACKENDS`` — at construction, so that the layer's
repr shows what runs and a request that cannot run fails before any training step.
"""

BACKENDS = ("eager", "torch", "fused")


def load_fused_attention():
    """``minitransformer.ops.attention``; ImportError (one line, with the reason) when the compiled extension
    is not built or does not load."""
    from minitransformer import ops  # here, not at the top: only "fused" needs the compiled extension
    return ops.attention


def resolve_backend(name):
    """The backend that runs for the requested ``name`` ("auto" or one of ``BACKENDS``)."""
    if name == "reference":  # the eager backend's former name: configs saved before the rename store it
        name = "eager"
    if name == "auto":
        # Not built: eager runs, and the layers' repr says so. A build that loads but does not match
        # ops/*.py raises its RuntimeError here instead of silently running the slow path.
        try:
            load_fused_attention()
        except ImportError:
            return "eager"
        return "fused"
    if name not in BACKENDS:
        raise ValueError(f"backend must be 'auto' or one of {BACKENDS}, got {name!r}")
    if name == "fused":
        try:
            load_fused_attention()
        except ImportError as error:
            raise RuntimeError(f"backend='fused' needs the compiled extension, which did not load: {error}") \
                from None
    return name


def check_attention_dropout(backend, dropout_p):
    """ValueError when ``backend`` cannot apply attention dropout ``dropout_p`` (the fused kernel has none)."""
    if backend == "fused" and dropout_p > 0.0:
        raise ValueError(f"backend='fused' has no attention dropout, got dropout {dropout_p}; use 0.0 "
                         "(on the encoder/decoder layers: attention_dropout=0.0) or backend='eager'")
