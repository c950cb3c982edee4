#!/usr/bin/python3
"""Export stock torchvision models, as a user would, to try Kiln on families
it was not tuned for.

Usage:
    models/stock.py --out DIR [--only NAME,NAME] [--size 224] [--dynamic-batch]
    models/stock.py --list

Writes DIR/<name>/model.onnx and DIR/<name>/test_data_set_0/{input_0,output_0}.pb
(opset 17, batch 1, weights from a fixed seed with batch-norm statistics
recalibrated on random data, expected outputs from PyTorch). Segmentation
models return their "out" tensor. With --dynamic-batch the batch axis is
exported dynamic (compile with --input-shape, or let kiln run take it from
the data). The models are big: this is a tool for closing notes and
benchmarks, not part of CI (models/generate.py makes the CI set).
"""

import argparse
import os
import sys
import warnings

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import recalibrate_batchnorm, write_pb  # noqa: E402

CLASSIFIERS = [
    "alexnet", "convnext_tiny", "densenet121", "efficientnet_b0", "googlenet",
    "inception_v3", "mnasnet1_0", "mobilenet_v2", "mobilenet_v3_large", "regnet_y_400mf",
    "resnet50", "resnext50_32x4d", "shufflenet_v2_x1_0", "squeezenet1_1", "swin_t",
    "vgg11", "vit_b_16", "wide_resnet50_2", "efficientnet_v2_s", "maxvit_t",
]
SEGMENTATION = ["deeplabv3_mobilenet_v3_large", "fcn_resnet50", "lraspp_mobilenet_v3_large"]


class SegmentationOut(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def build(name, size):
    import torchvision
    torch.manual_seed(0)
    if name in SEGMENTATION:
        model = getattr(torchvision.models.segmentation, name)(
            weights=None, weights_backbone=None, aux_loss=None)
        model = SegmentationOut(model)
    else:
        kwargs = {"init_weights": True} if name in ("googlenet", "inception_v3") else {}
        if name in ("googlenet", "inception_v3"):
            kwargs["aux_logits"] = False
        model = getattr(torchvision.models, name)(weights=None, **kwargs)
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.reset_parameters()
    recalibrate_batchnorm(model, (4, 3, size, size), n_batches=2, seed=1)
    g = torch.Generator().manual_seed(2)
    return model.eval(), torch.randn(1, 3, size, size, generator=g)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out")
    ap.add_argument("--only", default=",".join(CLASSIFIERS + SEGMENTATION))
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--dynamic-batch", action="store_true")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        print("\n".join(CLASSIFIERS + SEGMENTATION))
        return 0
    if not args.out:
        ap.error("--out is required")
    warnings.filterwarnings("ignore")
    torch.set_num_threads(2)
    for name in [n for n in args.only.split(",") if n]:
        if name not in CLASSIFIERS + SEGMENTATION:
            ap.error(f"unknown model {name}; see --list")
        size = 299 if name == "inception_v3" and args.size == 224 else args.size
        model, x = build(name, size)
        with torch.no_grad():
            y = model(x)
        d = os.path.join(args.out, name)
        os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
        # Not under no_grad: attention modules would take fused paths that
        # have no ONNX form.
        torch.onnx.export(
            model, (x,), os.path.join(d, "model.onnx"), opset_version=17,
            input_names=["input"], output_names=["output"], do_constant_folding=True,
            dynamic_axes=({"input": {0: "batch"}, "output": {0: "batch"}}
                          if args.dynamic_batch else None))
        write_pb(os.path.join(d, "test_data_set_0", "input_0.pb"), x.numpy(), "input")
        write_pb(os.path.join(d, "test_data_set_0", "output_0.pb"), y.numpy(), "output")
        print(f"[{name}] {list(y.shape)} std {float(y.std()):.4g} -> {d}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
