"""Training loops, checkpoints (safetensors) and multi-process (DDP) training."""
