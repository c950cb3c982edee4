#!/usr/bin/python3
"""Export the benchmark/test models used by Kiln to ONNX.

Usage:
    models/generate.py --out DIR
                       [--only resnet18,mobilenet_v2,mobilenet_v3_small,
                               squeezenet1_1,bert_encoder,gpt_decoder,
                               vit_cls,swin_tiny,seg_head,shufflenet_dyn,
                               encoder_shared,decoder_tied,lstm,gru_bidir]
                       [--set default|families|all] [--layers N]

For each model this writes
    DIR/<name>/model.onnx
    DIR/<name>/test_data_set_0/input_0.pb
    DIR/<name>/test_data_set_0/output_0.pb
where the .pb files are ONNX TensorProtos whose .name is the graph input /
output name.  Expected outputs are the outputs of the torch model that was
exported (eval mode, fixed seeds, static shapes, opset 17).

The real-model set (vit_cls ... lstm) is stock torchvision / torch.nn
modules as exporters write them: a ViT class token, Swin window attention,
a segmentation head resized to the input size, a ShuffleNet exported with a
dynamic batch, nn.TransformerEncoder layers sharing weights, tied embeddings
an LSTM and a bidirectional GRU (see the builders' docstrings).

gpt_decoder is a GPT-like stack of pre-norm decoder blocks with a causal mask
(width 384, 6 heads, 6 layers, sequence 64); it takes float activations
[1, 64, 384] rather than token ids, so it has no embedding or vocab head.

`--set families` writes the CNN-family benchmark set instead of the default
(CI) set: resnext_grouped, aspp_dilated, densenet_concat, inception_branches,
vgg_plain, convnext_block and resnet50_b8 (see FAMILY_MODELS); `--set all`
writes every set.

`--set qdq` writes the int8 benchmark set (see QDQ_MODELS): resnet18,
resnext_grouped, vgg_plain and bert_encoder with a calibrated QuantizeLinear
-> DequantizeLinear pair in front of every convolution and linear layer
(uint8 activations, per-tensor; int8 weights, symmetric, per output
channel), as PyTorch exports fake quantisation.

`--layers N` changes the number of encoder layers of bert_encoder; with
N != 4 the model is written as bert_encoder_<N>l (e.g. bert_encoder_8l).
"""

import argparse
import copy
import math
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx
from onnx import numpy_helper

OPSET = 17
# The CNNs cover the block families channels-last layout propagation must
# handle: residual blocks (resnet18), inverted residuals (mobilenet_v2),
# squeeze-and-excitation with hard-swish (mobilenet_v3_small) and fire
# modules with channel concat (squeezenet1_1).
ALL_MODELS = ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1",
              "bert_encoder", "gpt_decoder"]


# ---------------------------------------------------------------------------
# BERT-like encoder and GPT-like decoder written out in plain torch
# ---------------------------------------------------------------------------

class SelfAttention(nn.Module):
    """Multi-head self-attention; with causal_len=T, position t attends only
    to positions <= t (sequences must then be exactly T long)."""

    def __init__(self, d_model, n_heads, causal_len=None):
        super().__init__()
        assert d_model % n_heads == 0
        self.n_heads = n_heads
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)
        # A constant buffer, as GPT code usually writes it, so the exporter
        # emits the mask as a constant tensor (boolean after folding `== 0`)
        # feeding Where: one of the causal-mask forms SDPA matching must see.
        mask = None
        if causal_len is not None:
            T = causal_len
            mask = torch.tril(torch.ones(T, T)).view(1, 1, T, T)
        self.register_buffer("mask", mask)

    def forward(self, x):
        B, T, C = x.shape
        H = self.n_heads
        D = C // H
        q = self.q(x).view(B, T, H, D).transpose(1, 2)  # [B,H,T,D]
        k = self.k(x).view(B, T, H, D).transpose(1, 2)
        v = self.v(x).view(B, T, H, D).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(D)  # [B,H,T,T]
        if self.mask is not None:
            scores = scores.masked_fill(self.mask == 0, float('-inf'))
        probs = torch.softmax(scores, dim=-1)
        ctx = probs @ v  # [B,H,T,D]
        ctx = ctx.transpose(1, 2).reshape(B, T, C)
        return self.out(ctx)


class EncoderLayer(nn.Module):
    def __init__(self, d_model, n_heads, d_ff):
        super().__init__()
        self.attn = SelfAttention(d_model, n_heads)
        self.ln1 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, d_ff)
        self.ff2 = nn.Linear(d_ff, d_model)
        self.ln2 = nn.LayerNorm(d_model)

    def forward(self, x):
        x = self.ln1(x + self.attn(x))  # post-norm
        h = self.ff2(F.gelu(self.ff1(x)))  # exact (erf) GELU
        return self.ln2(x + h)


class BertEncoder(nn.Module):
    def __init__(self, vocab=1000, max_len=128, d_model=256, n_heads=4,
                 d_ff=1024, n_layers=4):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        self.ln = nn.LayerNorm(d_model)
        self.layers = nn.ModuleList(
            [EncoderLayer(d_model, n_heads, d_ff) for _ in range(n_layers)])

    def forward(self, ids):
        T = ids.shape[1]
        pos = torch.arange(T, device=ids.device).unsqueeze(0)
        x = self.ln(self.tok(ids) + self.pos(pos))
        for layer in self.layers:
            x = layer(x)
        return x


class DecoderBlock(nn.Module):
    def __init__(self, d_model, n_heads, d_ff, seq_len):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, n_heads, causal_len=seq_len)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, d_ff)
        self.ff2 = nn.Linear(d_ff, d_model)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))  # pre-norm, unlike EncoderLayer
        return x + self.ff2(F.gelu(self.ff1(self.ln2(x))))  # exact (erf) GELU


class GptDecoder(nn.Module):
    def __init__(self, d_model=384, n_heads=6, d_ff=1536, n_layers=6, seq_len=64):
        super().__init__()
        self.blocks = nn.ModuleList(
            [DecoderBlock(d_model, n_heads, d_ff, seq_len) for _ in range(n_layers)])
        # pre-norm leaves the residual stream unnormalised: GPT-2 style final LN
        self.ln_f = nn.LayerNorm(d_model)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x)


# ---------------------------------------------------------------------------
# model builders: return (model, example_input, input_name, output_name)
# ---------------------------------------------------------------------------

def recalibrate_batchnorm(model, shape, n_batches=3, seed=1):
    """Re-estimate BatchNorm running stats on random data so that a randomly
    initialised CNN keeps its activations O(1) in eval mode."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative moving average over the batches
    g = torch.Generator().manual_seed(seed)
    model.train()
    with torch.no_grad():
        for _ in range(n_batches):
            model(torch.randn(*shape, generator=g))
    model.eval()


def build_cnn(name):
    import torchvision
    torch.manual_seed(0)
    ctor = getattr(torchvision.models, name)
    model = ctor(weights=None)
    # Some torchvision classifiers start from N(0, 0.01) weights, which makes
    # logits too small to test against; PyTorch's default init keeps them O(1).
    for m in model.modules():
        if isinstance(m, nn.Linear):
            m.reset_parameters()
    # calibration batch (seed 1) differs from the test input (seed 2)
    recalibrate_batchnorm(model, (8, 3, 224, 224), n_batches=3, seed=1)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(1, 3, 224, 224, generator=g)
    return model, x, "input", "output"


def perturb_layernorms(model):
    """LayerNorm initialises to weight=1, bias=0, which would not test that an
    implementation applies scale/bias (and the exporter would deduplicate
    the identical tensors into Identity nodes).  Perturb them."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.add_(0.1 * torch.randn_like(m.weight))
                m.bias.add_(0.1 * torch.randn_like(m.bias))


def build_bert(n_layers):
    torch.manual_seed(0)
    model = BertEncoder(n_layers=n_layers).eval()
    perturb_layernorms(model)
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, 1000, (1, 128), generator=g, dtype=torch.int64)
    return model, ids, "input_ids", "output"


def build_gpt():
    torch.manual_seed(0)
    model = GptDecoder().eval()
    perturb_layernorms(model)
    # activations as if from an embedding layer, which the model leaves out
    g = torch.Generator().manual_seed(2)
    x = torch.randn(1, 64, 384, generator=g)
    return model, x, "input", "output"


# ---------------------------------------------------------------------------
# The real-model set: stock torchvision / torch.nn modules in the forms
# exporters write them, small enough for CI
# ---------------------------------------------------------------------------

def build_vit_cls():
    """A small torchvision VisionTransformer: the class token is expanded to
    the batch with expand(n, -1, -1), which exports as
    ConstantOfShape -> Mul -> Equal -> Where -> Expand."""
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64,
        mlp_dim=128, num_classes=10)
    model.heads.head.reset_parameters()  # torchvision zero-initialises it
    g = torch.Generator().manual_seed(2)
    return model.eval(), torch.randn(1, 3, 32, 32, generator=g), "input", "output"


def build_swin_tiny():
    """A two-stage torchvision SwinTransformer: windows of 4 on 12x12 and 6x6
    feature maps, so the window padding computed from Shape arithmetic is
    non-zero in the second stage, plus shifted windows with their masks."""
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.SwinTransformer(
        patch_size=[4, 4], embed_dim=32, depths=[2, 2], num_heads=[2, 4],
        window_size=[4, 4], num_classes=10)
    model.head.reset_parameters()
    g = torch.Generator().manual_seed(2)
    return model.eval(), torch.randn(1, 3, 48, 48, generator=g), "input", "output"


class SegHead(nn.Module):
    """A stride-8 conv backbone, torchvision's DeepLabV3 head (ASPP with
    dilations 12/24/36 and image pooling, whose Resize takes its size from
    Shape) and a bilinear Resize to the input size, as torchvision's
    segmentation models end."""

    def __init__(self):
        super().__init__()
        from torchvision.models.segmentation.deeplabv3 import DeepLabHead

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU())
        self.backbone = nn.Sequential(block(3, 16), block(16, 32), block(32, 64))
        self.head = DeepLabHead(64, 5)

    def forward(self, x):
        y = self.head(self.backbone(x))
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


def build_seg_head():
    torch.manual_seed(0)
    model = SegHead()
    recalibrate_batchnorm(model, (8, 3, 64, 64), n_batches=3, seed=1)
    g = torch.Generator().manual_seed(2)
    return model, torch.randn(1, 3, 64, 64, generator=g), "input", "output"


def build_shufflenet_dyn():
    """torchvision's ShuffleNetV2 (x0.5), exported with a dynamic batch: its
    channel shuffle reshapes take the batch from Shape, so compiling it needs
    --input-shape (kiln run takes the shape from the data)."""
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.shufflenet_v2_x0_5(weights=None)
    model.fc.reset_parameters()
    recalibrate_batchnorm(model, (8, 3, 64, 64), n_batches=3, seed=1)
    g = torch.Generator().manual_seed(2)
    return model, torch.randn(1, 3, 64, 64, generator=g), "input", "output"


class SharedEncoder(nn.Module):
    """A BERT-like encoder from nn.TransformerEncoder. It deep-copies one
    layer, so every layer starts with the same weights, and the exporter
    deduplicates equal initializers: all layers share one set of weights."""

    def __init__(self, vocab=1000, max_len=128, d_model=256, n_heads=4, d_ff=1024, n_layers=4):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout=0.0,
                                           activation="gelu")
        self.encoder = nn.TransformerEncoder(layer, n_layers)

    def forward(self, ids):  # ids [T, B], sequence first (PyTorch's default)
        T = ids.shape[0]
        pos = torch.arange(T).unsqueeze(1)
        return self.encoder(self.tok(ids) + self.pos(pos))


class TiedDecoder(nn.Module):
    """A decoder-only LM from nn.TransformerEncoder layers with a causal mask
    (shared layer weights, as above) whose output projection reuses the
    token embedding (tied embeddings): one weight read by a Gather and a
    MatMul/Gemm."""

    def __init__(self, vocab=1000, seq_len=64, d_model=256, n_heads=4, d_ff=1024, n_layers=4):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        nn.init.normal_(self.tok.weight, std=0.1)  # keeps the tied logits O(1)
        self.pos = nn.Parameter(0.1 * torch.randn(seq_len, 1, d_model))
        layer = nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout=0.0,
                                           norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, n_layers)
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)
        self.head.weight = self.tok.weight
        mask = torch.triu(torch.full((seq_len, seq_len), float("-inf")), diagonal=1)
        self.register_buffer("mask", mask)

    def forward(self, ids):  # ids [T, B]
        x = self.tok(ids) + self.pos
        return self.head(self.ln(self.blocks(x, mask=self.mask)))


def build_encoder_shared():
    torch.manual_seed(0)
    model = SharedEncoder().eval()
    perturb_layernorms(model)  # per layer: only the linear weights stay shared
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, 1000, (128, 1), generator=g, dtype=torch.int64)
    return model, ids, "input_ids", "output"


def build_decoder_tied():
    torch.manual_seed(0)
    model = TiedDecoder().eval()
    perturb_layernorms(model)
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, 1000, (64, 1), generator=g, dtype=torch.int64)
    return model, ids, "input_ids", "output"


class Lstm(nn.Module):
    """A 2-layer nn.LSTM over 32 steps (sequence first), returning every
    step's output of the last layer."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(128, 256, num_layers=2)

    def forward(self, x):
        return self.lstm(x)[0]


def build_lstm():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(2)
    return Lstm().eval(), torch.randn(32, 1, 128, generator=g), "input", "output"


class BiGru(nn.Module):
    """A bidirectional nn.GRU, batch first, over two sequences: the reverse
    direction, batch rows and the batch-first layout of the recurrent loop
    (PyTorch's GRU exports linear_before_reset=1)."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(64, 96, batch_first=True, bidirectional=True)

    def forward(self, x):
        return self.gru(x)[0]


def build_gru_bidir():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(2)
    return BiGru().eval(), torch.randn(2, 16, 64, generator=g), "input", "output"


# ---------------------------------------------------------------------------
# The CNN-family benchmark set (--set families): one model per convolution
# family users bring, built from stock torchvision modules at reduced depth
# and resolution so that each runs in tens of milliseconds. Not part of the
# default (CI) set; bench/run.sh times whatever is in its models directory.
# ---------------------------------------------------------------------------

def _classifier_input(model, shape, batch=1):
    """Recalibrate batch norm on seed-1 data and draw the seed-2 test input."""
    recalibrate_batchnorm(model, (8,) + tuple(shape), n_batches=3, seed=1)
    g = torch.Generator().manual_seed(2)
    return model, torch.randn((batch,) + tuple(shape), generator=g), "input", "output"


def _reset_linears(model):
    for m in model.modules():
        if isinstance(m, nn.Linear):
            m.reset_parameters()


def build_resnext_grouped():
    """torchvision ResNet with ResNeXt bottlenecks (32 groups of width 4):
    grouped 3x3 convolutions with 4 to 32 channels per group."""
    from torchvision.models.resnet import ResNet, Bottleneck
    torch.manual_seed(0)
    model = ResNet(Bottleneck, [1, 2, 2, 1], groups=32, width_per_group=4, num_classes=100)
    _reset_linears(model)
    return _classifier_input(model, (3, 128, 128))


class AsppSegmenter(nn.Module):
    """A stride-8 backbone with 256 output channels (as DeepLabV3's dilated
    ResNet gives its head), torchvision's DeepLabHead (ASPP: dilations
    12/24/36 and image pooling) and the bilinear Resize to the input size
    that torchvision's segmentation models end with."""

    def __init__(self, classes=21):
        super().__init__()
        from torchvision.models.segmentation.deeplabv3 import DeepLabHead

        def block(cin, cout, stride):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU())
        self.backbone = nn.Sequential(block(3, 32, 2), block(32, 64, 2), block(64, 128, 2),
                                      block(128, 256, 1))
        self.head = DeepLabHead(256, classes)

    def forward(self, x):
        y = self.head(self.backbone(x))
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


def build_aspp_dilated():
    torch.manual_seed(0)
    return _classifier_input(AsppSegmenter(), (3, 192, 192))


def build_densenet_concat():
    """torchvision DenseNet (growth 32, blocks of 3/6/6/3 layers): every layer
    concatenates its 32 new channels onto all earlier ones."""
    from torchvision.models.densenet import DenseNet
    torch.manual_seed(0)
    model = DenseNet(growth_rate=32, block_config=(3, 6, 6, 3), num_init_features=64,
                     num_classes=100)
    _reset_linears(model)
    return _classifier_input(model, (3, 128, 128))


def build_inception_branches():
    """torchvision GoogLeNet (no auxiliary heads): inception modules whose
    1x1, 3x3, 5x5 (exported as 3x3) and pool branches meet in a Concat."""
    from torchvision.models.googlenet import GoogLeNet
    torch.manual_seed(0)
    model = GoogLeNet(num_classes=100, aux_logits=False, init_weights=True)
    _reset_linears(model)
    return _classifier_input(model, (3, 128, 128))


class PlainVgg(nn.Module):
    """torchvision's VGG-11-with-batch-norm feature stack (large plain 3x3
    convolutions, 64 to 512 channels) and a pooled linear classifier in
    place of VGG's 100-million-weight one."""

    def __init__(self, classes=100):
        super().__init__()
        from torchvision.models.vgg import make_layers
        self.features = make_layers([64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512],
                                    batch_norm=True)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def build_vgg_plain():
    torch.manual_seed(0)
    return _classifier_input(PlainVgg(), (3, 128, 128))


def build_convnext_block():
    """torchvision ConvNeXt (stages of 2/2/4/2 blocks, 48 to 384 channels):
    7x7 depthwise convolutions, LayerNorm over channels (channels-last
    permutes) and a 4x MLP with GELU. Layer scale starts at 1e-6 in
    torchvision, which would make every block an identity; it is set to
    0.2 here so that the blocks count."""
    from torchvision.models.convnext import ConvNeXt, CNBlockConfig
    torch.manual_seed(0)
    stages = [CNBlockConfig(48, 96, 2), CNBlockConfig(96, 192, 2), CNBlockConfig(192, 384, 4),
              CNBlockConfig(384, None, 2)]
    model = ConvNeXt(stages, layer_scale=0.2, num_classes=100)
    _reset_linears(model)
    perturb_layernorms(model)  # LayerNorm2d is an nn.LayerNorm
    model.eval()
    g = torch.Generator().manual_seed(2)
    return model, torch.randn(1, 3, 128, 128, generator=g), "input", "output"


def build_resnet50_b8():
    """torchvision ResNet-50 at batch 8 (112x112): a batch large enough
    that threads can split it."""
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None)
    _reset_linears(model)
    return _classifier_input(model, (3, 112, 112), batch=8)


FAMILY_MODELS = {
    "resnext_grouped": build_resnext_grouped,
    "aspp_dilated": build_aspp_dilated,
    "densenet_concat": build_densenet_concat,
    "inception_branches": build_inception_branches,
    "vgg_plain": build_vgg_plain,
    "convnext_block": build_convnext_block,
    "resnet50_b8": build_resnet50_b8,
}


# The int8 benchmark set (--set qdq): CNNs and an encoder with a calibrated QDQ
# pair in front of every convolution and linear layer, as PyTorch's exporter writes fake quantisation
# (QuantizeLinear -> DequantizeLinear): activations uint8 with a per-tensor
# scale and zero point from their range on a calibration batch, weights int8,
# symmetric, per output channel.

def _activation_qparams(lo, hi):
    """uint8 scale and zero point covering [min(lo, 0), max(hi, 0)]."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max((hi - lo) / 255.0, 1e-8)
    return scale, int(min(max(round(-lo / scale), 0), 255))


def _fake_quantize(x, scale, zero, w, w_scale, axis):
    """x (uint8, per tensor) and w (int8, per channel along `axis`) fake
    quantised: with torch's ops in float32 (they export as QDQ pairs), and
    with the same rounding written out in float64 (the reference)."""
    if x.dtype == torch.float64:
        x = (torch.clamp(torch.round(x / scale) + zero, 0, 255) - zero) * scale
        shape = [1] * w.dim()
        shape[axis] = -1
        s = w_scale.double().reshape(shape)
        return x, torch.clamp(torch.round(w / s), -128, 127) * s
    x = torch.fake_quantize_per_tensor_affine(x, scale, zero, 0, 255)
    w = torch.fake_quantize_per_channel_affine(
        w, w_scale.float(), torch.zeros_like(w_scale, dtype=torch.int32), axis, -128, 127)
    return x, w


class QdqConv2d(nn.Module):
    """`conv` on fake-quantised input and weights. In float64 (the
    reference) the same rounding is written out, since torch's fake
    quantisation takes float32 only."""

    def __init__(self, conv, lo, hi):
        super().__init__()
        self.conv = conv
        self.scale, self.zero = _activation_qparams(lo, hi)
        w = conv.weight.detach()
        self.register_buffer("w_scale", (w.abs().amax(dim=(1, 2, 3)) / 127.0).clamp(min=1e-8))

    def forward(self, x):
        c = self.conv
        x, w = _fake_quantize(x, self.scale, self.zero, c.weight, self.w_scale, 0)
        return F.conv2d(x, w, c.bias, c.stride, c.padding, c.dilation, c.groups)


class QdqLinear(nn.Module):
    """`linear` as x @ W^T + b on a fake-quantised input and W^T, whose
    scales run along the output columns (axis 1): the MatMul form of
    ONNX Runtime's per-channel quantiser."""

    def __init__(self, linear, lo, hi):
        super().__init__()
        self.bias = linear.bias
        self.scale, self.zero = _activation_qparams(lo, hi)
        self.weight_t = nn.Parameter(linear.weight.detach().t().contiguous())
        self.register_buffer("w_scale", (self.weight_t.detach().abs().amax(dim=0) / 127.0)
                             .clamp(min=1e-8))

    def forward(self, x):
        x, w = _fake_quantize(x, self.scale, self.zero, self.weight_t, self.w_scale, 1)
        y = torch.matmul(x, w)
        return y + self.bias if self.bias is not None else y


def insert_qdq(model, x):
    """Replaces every Conv2d and Linear of `model` by a QdqConv2d or
    QdqLinear calibrated on `x` and two more random batches."""
    quantized = {nn.Conv2d: QdqConv2d, nn.Linear: QdqLinear}
    ranges = {}
    hooks = []
    for name, m in model.named_modules():
        if type(m) in quantized:
            def record(mod, inputs, name=name):
                lo, hi = float(inputs[0].min()), float(inputs[0].max())
                old = ranges.get(name, (lo, hi))
                ranges[name] = (min(lo, old[0]), max(hi, old[1]))
            hooks.append(m.register_forward_pre_hook(record))
    model.eval()
    g = torch.Generator().manual_seed(3)

    def another():
        if x.is_floating_point():
            return torch.randn(x.shape, generator=g)
        return torch.randint(0, int(x.max()) + 1, x.shape, generator=g, dtype=x.dtype)
    with torch.no_grad():
        for batch in (x, another(), another()):
            model(batch)
    for h in hooks:
        h.remove()
    for name, m in list(model.named_modules()):
        for child_name, child in list(m.named_children()):
            full = f"{name}.{child_name}" if name else child_name
            if type(child) in quantized and full in ranges:
                setattr(m, child_name, quantized[type(child)](child, *ranges[full]))
    return model


def _qdq(build):
    def wrapped():
        model, x, i, o = build()
        return insert_qdq(model.eval(), x), x, i, o
    return wrapped


QDQ_MODELS = {
    "resnet18_qdq": _qdq(lambda: build_cnn("resnet18")),
    "resnext_grouped_qdq": _qdq(build_resnext_grouped),
    "vgg_plain_qdq": _qdq(build_vgg_plain),
    "bert_encoder_qdq": _qdq(lambda: build_bert(4)),
}


REAL_MODELS = {
    "vit_cls": build_vit_cls,
    "swin_tiny": build_swin_tiny,
    "seg_head": build_seg_head,
    "shufflenet_dyn": build_shufflenet_dyn,
    "encoder_shared": build_encoder_shared,
    "decoder_tied": build_decoder_tied,
    "lstm": build_lstm,
    "gru_bidir": build_gru_bidir,
}
# Exported with a dynamic batch (axis 0 of input and output).
DYNAMIC_BATCH = {"shufflenet_dyn"}


# ---------------------------------------------------------------------------

def write_pb(path, array, name):
    t = numpy_helper.from_array(np.ascontiguousarray(array), name=name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def export_one(name, model, x, in_name, out_name, out_dir, dynamic_batch=False):
    t0 = time.perf_counter()
    model.eval()
    # The expected output is computed in float64 (a copy of the model with
    # double weights, on the same input), so that the tests can hold Kiln's
    # float32 results to float32 rounding rather than to torch's.
    reference = copy.deepcopy(model).double()
    with torch.no_grad():
        y = reference(x.double() if x.is_floating_point() else x)
    t_fwd = time.perf_counter() - t0

    yn = y.detach().numpy().astype(np.float32)
    std = float(yn.std())
    maxabs = float(np.abs(yn).max())
    print(f"[{name}] output shape {list(yn.shape)} std {std:.6g} max|y| {maxabs:.6g}",
          flush=True)
    if not np.isfinite(yn).all():
        raise SystemExit(f"[{name}] output contains non-finite values")
    if not (1e-2 <= std <= 1e3):
        raise SystemExit(f"[{name}] output std {std} outside [1e-2, 1e3]: "
                         "activations vanish or explode")

    mdir = os.path.join(out_dir, name)
    ddir = os.path.join(mdir, "test_data_set_0")
    os.makedirs(ddir, exist_ok=True)
    onnx_path = os.path.join(mdir, "model.onnx")

    t1 = time.perf_counter()
    # Not under no_grad: there nn.MultiheadAttention and
    # nn.TransformerEncoderLayer take fused fast paths that have no ONNX form.
    torch.onnx.export(
        model, (x,), onnx_path,
        export_params=True,
        opset_version=OPSET,
        do_constant_folding=True,
        input_names=[in_name],
        output_names=[out_name],
        training=torch.onnx.TrainingMode.EVAL,
        # static shapes, unless the model is meant to be pinned by the user
        dynamic_axes=({in_name: {0: "batch"}, out_name: {0: "batch"}}
                      if dynamic_batch else None),
    )
    t_exp = time.perf_counter() - t1

    m = onnx.load(onnx_path)
    onnx.checker.check_model(m)
    g_in = [i.name for i in m.graph.input
            if i.name not in {t.name for t in m.graph.initializer}]
    g_out = [o.name for o in m.graph.output]
    assert g_in == [in_name], g_in
    assert g_out == [out_name], g_out

    write_pb(os.path.join(ddir, "input_0.pb"), x.numpy(), in_name)
    write_pb(os.path.join(ddir, "output_0.pb"), yn, out_name)
    if name in QDQ_MODELS:
        # Each requantisation may round a value the other way than the
        # float64 reference does; a few such steps move the logits by up to
        # a few per cent of their range (ONNX Runtime's too).
        with open(os.path.join(mdir, "tolerance.txt"), "w") as f:
            f.write(f"0.05 {0.05 * maxabs:.6g}\n")
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"[{name}] forward {t_fwd:.2f}s, export {t_exp:.2f}s, "
          f"{len(m.graph.node)} nodes, ops: {' '.join(ops)}", flush=True)
    print(f"[{name}] wrote {mdir}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory")
    default_set = ALL_MODELS + list(REAL_MODELS)
    choices = default_set + list(FAMILY_MODELS) + list(QDQ_MODELS)
    ap.add_argument("--set", choices=["default", "families", "qdq", "all"], default="default",
                    help="default: the CI set; families: the CNN-family benchmark "
                         "set; qdq: the int8 (QDQ) benchmark set; all: every set")
    ap.add_argument("--only", default=None,
                    help="comma-separated models (overrides --set), from: " + ",".join(choices))
    ap.add_argument("--layers", type=int, default=4,
                    help="encoder layers for bert_encoder (default 4; "
                         "other values are written as bert_encoder_<N>l)")
    args = ap.parse_args()

    if args.only is None:
        names = {"default": default_set, "families": list(FAMILY_MODELS),
                 "qdq": list(QDQ_MODELS), "all": choices}[args.set]
    else:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in choices]
    if unknown:
        ap.error(f"unknown model(s): {', '.join(unknown)}; "
                 f"choose from {', '.join(choices)}")
    if args.layers < 1:
        ap.error("--layers must be >= 1")

    torch.set_num_threads(2)
    # math.sqrt(D) on a traced size is intentionally folded to a constant
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    np.random.seed(0)
    torch.manual_seed(0)
    os.makedirs(args.out, exist_ok=True)

    t_all = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        if name == "bert_encoder":
            model, x, i, o = build_bert(args.layers)
            out_name = name if args.layers == 4 else f"bert_encoder_{args.layers}l"
        elif name == "gpt_decoder":
            model, x, i, o = build_gpt()
            out_name = name
        elif name in REAL_MODELS:
            model, x, i, o = REAL_MODELS[name]()
            out_name = name
        elif name in FAMILY_MODELS:
            model, x, i, o = FAMILY_MODELS[name]()
            out_name = name
        elif name in QDQ_MODELS:
            model, x, i, o = QDQ_MODELS[name]()
            out_name = name
        else:
            model, x, i, o = build_cnn(name)
            out_name = name
        t_build = time.perf_counter() - t0
        export_one(out_name, model, x, i, o, args.out,
                   dynamic_batch=name in DYNAMIC_BATCH)
        print(f"[{out_name}] total {time.perf_counter() - t0:.2f}s "
              f"(build+calibrate {t_build:.2f}s)", flush=True)
    print(f"all done in {time.perf_counter() - t_all:.2f}s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
