"""Hand-written PyTorch modules, each checked against a NumPy reference and the PyTorch built-in.

Inputs are batch-first: sequences (B, N, E), images (B, C, H, W). Names follow torch.nn.

Blocks
    Linear(in_features, out_features, bias=True, backend="eager"), linear(x, W, b, backend)  linear.py
    LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, backend="eager")
                                                                                       layernorm.py
    GELU(approximate="none"|"tanh"), ReLU(), gelu(x), relu(x)                         activations.py
    Dropout(p=0.1, backend="eager") (.add_to(residual, x)), dropout(x, p, training)  dropout.py
    Embedding(num_embeddings, embedding_dim, padding_idx=None, backend="eager")       embedding.py
    FeedForward(d_model, dim_feedforward=2048, dropout=0.0, activation="gelu", bias=True, backend="eager")
                                                                                       feedforward.py
    softmax(x, dim=-1): the safe softmax, all -inf rows give zeros                     softmax.py
Attention
    BACKENDS = ("eager", "torch", "fused"), resolve_backend(name or "auto")            backends.py
    scaled_dot_product_attention(q, k, v, *, attn_mask, key_padding_mask, is_causal, dropout_p, scale,
        training, backend="eager")   q (B, H, N_q, D); masks True = masked             attention.py
    MultiHeadAttention(d_model, nhead, dropout=0.0, bias=True, kdim, vdim, backend, rotary=False)
        forward(query, key=None, value=None, key_padding_mask=None, attn_mask=None, is_causal=False)
                                                                              multihead_attention.py
    TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
        layer_norm_eps=1e-5, norm_first=False, bias=True, attention_dropout=None, backend, rotary)
        forward(src, src_mask=None, key_padding_mask=None, is_causal=False)       encoder_layer.py
    TransformerDecoderLayer(same arguments)
        forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask,
                tgt_is_causal=True)                                                decoder_layer.py
Positions                                                                          positional.py
    SinusoidalPositionalEncoding(d_model, max_len=5000), LearnedPositionalEmbedding(max_len, d_model),
    RotaryEmbedding(head_dim, base=10000), sinusoidal_table(length, d_model)
Images
    Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True)
    MaxPool2d(kernel_size, stride=None, padding=0, dilation=1), AvgPool2d(kernel_size, stride, padding)
    BatchNorm2d(num_features, eps=1e-5, momentum=0.1, affine=True)      conv.py, pooling.py, batchnorm.py
Recurrent                                                                          rnn.py
    RNNCell, LSTMCell, RNN(input_size, hidden_size, num_layers=1, nonlinearity, bias, batch_first=True,
    dropout), LSTM(...): forward(x, state) -> (output, h_n) / (output, (h_n, c_n))
Losses (class dim LAST: logits (..., C), targets (...))                           losses.py
    cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0, reduction="mean", backend="eager"),
    binary_cross_entropy_with_logits(logits, targets, pos_weight=None, reduction="mean"),
    CrossEntropyLoss, BCEWithLogitsLoss, log_softmax
    linear_cross_entropy(hidden, weight, bias, targets, chunk_size=512, ignore_index=-100, reduction="mean"):
        cross_entropy(hidden @ weight.T + bias, targets) in row chunks, never all the logits   linear_cross_entropy.py
"""

from minitransformer.nn.activations import GELU, ReLU, gelu, relu
from minitransformer.nn.attention import scaled_dot_product_attention
from minitransformer.nn.backends import BACKENDS, resolve_backend
from minitransformer.nn.batchnorm import BatchNorm2d
from minitransformer.nn.conv import Conv2d, conv2d
from minitransformer.nn.decoder_layer import TransformerDecoderLayer
from minitransformer.nn.dropout import Dropout, dropout
from minitransformer.nn.embedding import Embedding
from minitransformer.nn.encoder_layer import TransformerEncoderLayer
from minitransformer.nn.feedforward import FeedForward
from minitransformer.nn.layernorm import LayerNorm
from minitransformer.nn.linear import Linear, linear
from minitransformer.nn.linear_cross_entropy import linear_cross_entropy
from minitransformer.nn.losses import (BCEWithLogitsLoss, CrossEntropyLoss, binary_cross_entropy_with_logits,
                                       cross_entropy, log_softmax)
from minitransformer.nn.multihead_attention import MultiHeadAttention
from minitransformer.nn.pooling import AvgPool2d, MaxPool2d
from minitransformer.nn.positional import (LearnedPositionalEmbedding, RotaryEmbedding, SinusoidalPositionalEncoding,
                                           sinusoidal_table)
from minitransformer.nn.rnn import LSTM, RNN, LSTMCell, RNNCell
from minitransformer.nn.softmax import softmax

__all__ = ["GELU", "ReLU", "gelu", "relu", "scaled_dot_product_attention", "BACKENDS", "resolve_backend",
           "BatchNorm2d", "Conv2d", "conv2d", "TransformerDecoderLayer", "Dropout", "dropout", "Embedding",
           "TransformerEncoderLayer", "FeedForward", "LayerNorm", "Linear", "linear", "linear_cross_entropy",
           "BCEWithLogitsLoss", "CrossEntropyLoss",
           "binary_cross_entropy_with_logits", "cross_entropy", "log_softmax", "MultiHeadAttention", "AvgPool2d",
           "MaxPool2d", "LearnedPositionalEmbedding", "RotaryEmbedding", "SinusoidalPositionalEncoding",
           "sinusoidal_table", "LSTM", "RNN", "LSTMCell", "RNNCell", "softmax"]
