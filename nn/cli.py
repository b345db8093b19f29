"""Command line: `chainrule train ...`, `chainrule demo`, `chainrule graph EXPR`.

    chainrule train --dataset moons --widths 16 16 --activation relu --init he \
        --optimizer sgd --lr 0.1 --momentum 0.9 --schedule step --l2 1e-4 --epochs 100
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nn.checkpoint import save
from nn.data import DATASETS, train_val_split
from nn.init import INITS
from nn.layers import MLP
from nn.optim import SGD, Adam
from nn.schedulers import SCHEDULES, CosineAnnealingLR, ExponentialLR, MultiStepLR, StepLR
from nn.train import fit


def _train_parser(p: argparse.ArgumentParser, demo: bool = False) -> None:
    p.add_argument("--dataset", choices=sorted(DATASETS), default="moons")
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--noise", type=float, default=0.1)
    p.add_argument("--widths", type=int, nargs="+", default=[16, 16], help="hidden layer widths")
    p.add_argument("--activation", choices=["relu", "tanh", "sigmoid"], default="relu")
    p.add_argument("--init", choices=INITS, default="he")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--schedule", choices=SCHEDULES, default="step")
    p.add_argument("--step-size", type=int, default=50, help="epochs per lr step (step schedule)")
    p.add_argument("--gamma", type=float, default=0.5)
    p.add_argument("--l1", type=float, default=0.0)
    p.add_argument("--l2", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--batchnorm", action="store_true", default=demo)
    p.add_argument("--dropout", type=float, default=0.1 if demo else 0.0)
    p.add_argument("--batch-size", type=int, default=None, help="default: full batch")
    p.add_argument("--epochs", type=int, default=150)
    p.add_argument("--patience", type=int, default=None, help="early stopping patience")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("out"))
    p.add_argument("--no-progress", action="store_true")


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Train as the arguments say; write checkpoint and history; return the summary."""
    maker = DATASETS[args.dataset]
    kwargs = {"noise": args.noise} if args.dataset in ("moons", "circles", "spirals") else {}
    x, y = maker(args.samples, seed=args.seed, **kwargs)  # type: ignore[operator]
    (xt, yt), (xv, yv) = train_val_split(x, y, 0.2, seed=args.seed)
    classes = len(set(y))
    binary = classes == 2
    model = MLP(
        2,
        [*args.widths, 1 if binary else classes],
        args.activation,
        init=args.init,
        batchnorm=args.batchnorm,
        dropout=args.dropout,
        seed=args.seed,
    )
    params = model.parameters()
    opt = (
        SGD(params, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
        if args.optimizer == "sgd"
        else Adam(params, lr=args.lr, weight_decay=args.weight_decay)
    )
    schedules = {
        "none": lambda: None,
        "step": lambda: StepLR(opt, args.step_size, args.gamma),
        "multistep": lambda: MultiStepLR(opt, [args.epochs // 2, 3 * args.epochs // 4], args.gamma),
        "exponential": lambda: ExponentialLR(opt, args.gamma ** (1 / max(1, args.step_size))),
        "cosine": lambda: CosineAnnealingLR(opt, args.epochs),
    }
    hist = fit(
        model,
        xt,
        yt,
        opt,
        epochs=args.epochs,
        loss="hinge" if binary else "cross_entropy",
        batch_size=args.batch_size,
        val=(xv, yv),
        scheduler=schedules[args.schedule](),
        l1=args.l1,
        l2=args.l2,
        patience=args.patience,
        progress=not args.no_progress,
        seed=args.seed,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    save(model, args.out / "model.json", {"epochs": hist.epochs, "args": _jsonable(vars(args))})
    (args.out / "history.json").write_text(json.dumps(hist.to_dict(), indent=1))
    layers = " → ".join(_describe(m) for m in model.layers)
    summary = {
        "dataset": args.dataset,
        "layers": layers,
        "epochs": hist.epochs,
        "train_loss": hist.train_loss[-1],
        "train_acc": hist.train_acc[-1],
        "val_loss": hist.val_loss[-1],
        "val_acc": hist.val_acc[-1],
        "seconds": hist.seconds,
        "parameters": len(params),
        "stopped_early": hist.stopped_early,
    }
    return {"model": model, "history": hist, "summary": summary, "data": (xt, yt, xv, yv)}


def _describe(m: Any) -> str:
    """One module in the summary line, e.g. `Linear 2→16`, `BatchNorm1d`, `relu`."""
    if hasattr(m, "nout"):
        act = "" if m.activation == "identity" else f" + {m.activation}"
        return f"Linear {m.nin}→{m.nout}{act}"
    if hasattr(m, "p"):
        return f"Dropout(p={m.p})"
    return getattr(m, "name", type(m).__name__)


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in d.items()}


def _print_summary(s: dict[str, Any], out: Path) -> None:
    print(f"\nchainrule: trained an MLP on {s['dataset']} ({s['parameters']} parameters)")
    print(f"  layers:      {s['layers']}")
    print(
        f"  epochs:      {s['epochs']}{' (stopped early)' if s['stopped_early'] else ''}"
        f" in {s['seconds']:.1f} s"
    )
    print(f"  train:       loss {s['train_loss']:.4f}  accuracy {s['train_acc']:.1%}")
    print(f"  validation:  loss {s['val_loss']:.4f}  accuracy {s['val_acc']:.1%}")
    print(f"  outputs in   {out}/")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chainrule", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub.add_parser("train", help="train an MLP on a toy data set"))
    _train_parser(sub.add_parser("demo", help="the main job: moons, with every output"), demo=True)
    g = sub.add_parser("graph", help="render an expression's gradient graph")
    g.add_argument("expression", help='e.g. "tanh(x*w + b)"')
    g.add_argument("--out", type=Path, default=Path("out/graph"), help="file name without suffix")
    g.add_argument("--format", choices=["svg", "png", "pdf"], default="svg")
    args, rest = parser.parse_known_args(argv)
    if args.command == "graph":
        from viz.cli import graph_command

        return graph_command(args, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    result = train(args)
    if args.command == "demo":
        from viz.demo import write_demo_outputs

        write_demo_outputs(result, args.out)
    _print_summary(result["summary"], args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
