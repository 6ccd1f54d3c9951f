"""The machinery the recipes (``recipes/``) run on: training loops, checkpoints (safetensors; a pre-trained
model rebuilt by ``checkpoint.load_pretrained``), multi-process (DDP) training, fine-tuning, freezing, seeds."""
