"""convcalc's training-step peak against a CUDA device's own (issue 26, point 5; not run in CI).

    python benchmarks/gpu_step.py [--nets resnet18,resnet50,vgg16] [--batch 8] [--optimizer adam]

On a machine with a CUDA device: for each built-in, `convcalc.pytorch.to_module(spec)` in float32
on the device, in train mode, one step run first so that the optimizer's state exists, then the
measured steady-state step — every `.grad` None (`zero_grad()`'s default), `model(x).sum()`,
`backward()`, `opt.step()` — between `torch.cuda.reset_peak_stats()` and
`torch.cuda.max_memory_allocated()`. Beside it convcalc's peak for the same step on `--device
cuda` (the foreach default PyTorch takes there), and the difference, in bytes and as a share.

What the device counts that convcalc does not: the caching allocator rounds every block up to a
multiple of 512 B (and small ones to 512 B), and cuDNN's convolutions take workspaces of their
own during forward and backward; neither is in a description of the network. The CUDA context
and the kernels' code are outside `max_memory_allocated`. Without a CUDA device the script says so
and exits 2: the CPU oracle (tests/test_step_oracle.py) is the test, this is the check on a device.
"""

from __future__ import annotations

import argparse
import sys

from convcalc.builtins import open_spec
from convcalc.cli.common import override
from convcalc.engine.analyze import analyze
from convcalc.engine.steptime import step_timeline
from convcalc.engine.training import Device, Optimizer


def _measured(name: str, batch: int, optimizer: str) -> tuple[int, int]:
    """Convcalc's peak and the device's for one steady-state step of the built-in `name`."""
    import torch  # noqa: PLC0415 - only where the script runs

    from convcalc.pytorch import to_module  # noqa: PLC0415

    spec = override(open_spec(name), batch=batch)
    step = step_timeline(spec, analyze(spec), Optimizer(optimizer), device=Device.CUDA)
    if step is None:
        msg = f"{name}: convcalc has no step timeline for it"
        raise SystemExit(msg)
    model = to_module(spec).module.to("cuda").train()
    v = spec.input
    x = torch.zeros(batch, v.depth, *v.spatial, device="cuda")
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=1e-3) if optimizer == "adam" else torch.optim.SGD(params, lr=1e-3, momentum=0.9)

    def one_step() -> None:
        opt.zero_grad()  # set_to_none=True: every .grad None before backward
        model(x).sum().backward()
        opt.step()

    one_step()  # the optimizer's state made: the measured step is a steady one
    opt.zero_grad()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    one_step()
    torch.cuda.synchronize()
    return step.peak, int(torch.cuda.max_memory_allocated())


def main() -> int:
    """Each net's two peaks and their difference; 2 where there is no CUDA device."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", default="resnet18,resnet50,vgg16")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--optimizer", choices=["adam", "momentum"], default="adam")
    args = parser.parse_args()
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        print("error: torch is not installed (pip install torch)", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print(
            "error: no CUDA device here: nothing measured (the CPU oracle is tests/test_step_oracle.py)",
            file=sys.stderr,
        )
        return 2
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, batch {args.batch}, {args.optimizer}")
    for name in args.nets.split(","):
        ours, device = _measured(name, args.batch, args.optimizer)
        diff = device - ours
        print(f"{name:>12}: convcalc {ours:>15,} B  device {device:>15,} B  diff {diff:>+13,} B ({diff / ours:+.2%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
