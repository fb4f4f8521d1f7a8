"""PyTorch peer for app/bench/compare.bench.ts (issue 7).

torchvision's EfficientNet (B0's stages scaled by the width and depth multipliers given, so the
same network as EffNet Studio's `b0` or `phi:X`), random data, Adam, cross-entropy, the thread
count given. Prints one JSON object: {"torch": version, "threads": n, "cases": [{size, batch, width,
depth, params, train, infer, train_cpu, train_ms, infer_ms}]}: images/s from the median step time
after one warm-up step (train_ms/infer_ms: every timed step), and train_cpu, training images per
CPU-second of this process (all threads). Run with Debian's interpreter (/usr/bin/python3) and
python3-torchvision installed.
"""
import argparse
import json
import statistics
import sys
import time
from functools import partial


def measure(step, batch, steps):
    """Images/s from the median step time, images per CPU-second, and every step's milliseconds."""
    step()  # warm-up: allocations, one-time kernel selection
    times = []
    cpu_started = time.process_time()
    for _ in range(steps):
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1000)
    cpu = time.process_time() - cpu_started
    return batch * 1000 / statistics.median(times), steps * batch / cpu, times


def build(torch, torchvision, width, depth, classes):
    """torchvision's EfficientNet-B0 stages scaled as Keras scales them (8-divisible widths, ceil depths)."""
    from torchvision.models.efficientnet import EfficientNet, MBConvConfig

    conf = partial(MBConvConfig, width_mult=width, depth_mult=depth)
    stages = [
        conf(1, 3, 1, 32, 16, 1),
        conf(6, 3, 2, 16, 24, 2),
        conf(6, 5, 2, 24, 40, 2),
        conf(6, 3, 2, 40, 80, 3),
        conf(6, 5, 1, 80, 112, 3),
        conf(6, 5, 2, 112, 192, 4),
        conf(6, 3, 1, 192, 320, 1),
    ]
    return EfficientNet(stages, dropout=0.2, num_classes=classes)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", action="append", required=True, help="SIZE:BATCH[:WIDTH:DEPTH], e.g. 224:8 or 128:16:0.826:0.694")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train-steps", type=int, default=6)
    parser.add_argument("--infer-batches", type=int, default=4)
    parser.add_argument("--classes", type=int, default=1000)
    args = parser.parse_args()
    try:
        import torch
        import torchvision
    except ImportError as error:
        print(json.dumps({"error": f"PyTorch is not installed: {error}"}))
        return 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cases = []
    for case in args.case:
        parts = case.split(":")
        size, batch = int(parts[0]), int(parts[1])
        width, depth = (float(parts[2]), float(parts[3])) if len(parts) == 4 else (1.0, 1.0)
        model = build(torch, torchvision, width, depth, args.classes)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        images = torch.rand(batch, 3, size, size)
        labels = torch.randint(0, args.classes, (batch,))

        def train_step():
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()

        model.train()
        train, train_cpu, train_ms = measure(train_step, batch, args.train_steps)
        model.eval()

        def infer_step():
            with torch.inference_mode():
                model(images)

        infer, _, infer_ms = measure(infer_step, batch, args.infer_batches)
        cases.append({"size": size, "batch": batch, "width": width, "depth": depth,
                      "params": sum(p.numel() for p in model.parameters()),
                      "train": train, "infer": infer, "train_cpu": train_cpu, "train_ms": train_ms, "infer_ms": infer_ms})
    print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__,
                      "threads": torch.get_num_threads(), "cases": cases}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
