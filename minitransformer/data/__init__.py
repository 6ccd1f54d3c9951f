"""Data: corpora, tokenisation, labelled sets, batches for pre-training and fine-tuning."""
