"""Models built only from minitransformer.nn: BERT, GPT, CNN, word2vec."""
