"""PyTorch peer for app/bench/training.bench.ts (issue 7).

torchvision's EfficientNet-B0, random data, Adam, cross-entropy, the thread count given (2 by
default: the tfjs wasm backend has one thread in Node, the machine two cores). Prints one JSON
object: {"torch": version, "threads": n, "cases": [{size, batch, train, infer, train_cpu, ...}]}
with images/s (train_cpu: training images per CPU-second, all threads: less sensitive to a busy
machine than the wall-clock figures). Run with Debian's interpreter (/usr/bin/python3) and python3-torchvision installed.
"""
import argparse
import json
import sys
import time


def measure(step, batch, steps):
    """Images per second of wall time and per second of this process's CPU time (all threads)."""
    step()  # warm-up: allocations, one-time kernel selection
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - started), steps * batch / (time.process_time() - cpu_started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", action="append", required=True, help="SIZE:BATCH, e.g. 224:8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--infer-batches", type=int, default=5)
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
        size, batch = (int(v) for v in case.split(":"))
        model = torchvision.models.efficientnet_b0(num_classes=1000)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        images = torch.rand(batch, 3, size, size)
        labels = torch.randint(0, 1000, (batch,))

        def train_step():
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()

        model.train()
        train, train_cpu = measure(train_step, batch, args.train_steps)
        model.eval()

        def infer_step():
            with torch.inference_mode():
                model(images)

        infer, _ = measure(infer_step, batch, args.infer_batches)
        cases.append({"size": size, "batch": batch, "train": train, "infer": infer, "train_cpu": train_cpu,
                      "train_steps": args.train_steps, "infer_batches": args.infer_batches})
    print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__,
                      "threads": args.threads, "cases": cases}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
