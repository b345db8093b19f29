"""`chainrule train`: train an MLP on a toy data set; write model.json and history.json.

The tables OPTIMIZERS and SCHEDULES map a command-line name to the library object it
builds: names live here, at the edge; the library gets objects.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chainrule.cli.common import (
    Parser,
    UsageError,
    add_command,
    check_folder,
    real,
    suggest,
    whole,
)
from chainrule.engine import Value
from chainrule.nn import optim
from chainrule.nn.checkpoint import CheckpointError, check_writable, save, write_json
from chainrule.nn.data import DATASETS, train_val_split
from chainrule.nn.init import INITS
from chainrule.nn.layers import MLP
from chainrule.nn.module import Module
from chainrule.nn.task import CROSS_ENTROPY, HINGE
from chainrule.nn.train import fit

OUTPUTS = ("model.json", "history.json")  # what `train` writes into --out
VAL_FRACTION = 0.2  # held out for validation
MIN_SAMPLES = 10  # so that both the training and the validation split have samples
# Upper limits: a scalar engine takes minutes past these; larger values are typos.
MAX_SAMPLES = 100_000
MAX_WIDTH = 1_000
MAX_EPOCHS = 1_000_000

OPTIMIZERS: dict[str, Callable[[list[Value], argparse.Namespace], optim.Optimizer]] = {
    "sgd": lambda p, a: optim.SGD(p, lr=a.lr, momentum=a.momentum, weight_decay=a.weight_decay),
    "adam": lambda p, a: optim.Adam(p, lr=a.lr, weight_decay=a.weight_decay),
    "adamw": lambda p, a: optim.AdamW(p, lr=a.lr, weight_decay=a.weight_decay),
}
SCHEDULES: dict[str, Callable[[optim.Optimizer, argparse.Namespace], optim.LRScheduler | None]] = {
    "none": lambda o, a: None,
    "step": lambda o, a: optim.StepLR(o, a.step_size, a.gamma),
    "multistep": lambda o, a: optim.MultiStepLR(
        o, [max(1, a.epochs // 2), max(1, 3 * a.epochs // 4)], a.gamma
    ),
    "exponential": lambda o, a: optim.ExponentialLR(o, a.gamma ** (1 / a.step_size)),
    "cosine": lambda o, a: optim.CosineAnnealingLR(o, a.epochs),
}
ACTIVATIONS = ("relu", "tanh", "sigmoid")


def add_parser(sub: Any) -> Parser:
    p = add_command(
        sub,
        "train",
        "train an MLP on a toy data set; write model.json and history.json",
        "Train an MLP on a toy data set; write model.json (the checkpoint)\n"
        "and history.json (losses, accuracies, learning rates) to --out.",
    )
    add_options(p)
    return p


def _data_options(p: argparse.ArgumentParser) -> None:
    data = p.add_argument_group("data")
    data.add_argument("--dataset", choices=sorted(DATASETS), default="moons", help="toy data set")
    data.add_argument(
        "--samples",
        type=whole(MIN_SAMPLES, MAX_SAMPLES),
        default=200,
        help=f"number of points ({VAL_FRACTION * 100:.0f}%% held out for validation)",
    )
    data.add_argument(
        "--noise", type=real(0.0), default=0.1, help="std of the noise (moons, circles, spirals)"
    )


def _network_options(p: argparse.ArgumentParser, demo: bool) -> None:
    net = p.add_argument_group("network")
    net.add_argument(
        "--widths", type=whole(1, MAX_WIDTH), nargs="+", default=[16, 16], help="hidden widths"
    )
    net.add_argument("--activation", choices=ACTIVATIONS, default="relu", help="hidden units")
    net.add_argument("--init", choices=INITS, default="he", help="weight initialisation")
    net.add_argument(
        "--batchnorm",
        action=argparse.BooleanOptionalAction,
        default=demo,
        help="batch norm after each hidden layer",
    )
    net.add_argument(
        "--dropout",
        type=real(0.0, below=1.0),
        default=0.1 if demo else 0.0,
        help="probability of dropping a hidden unit in training",
    )


# (option, type, default, help) of the optimisation options that take one value
_NUMBERS: list[tuple[str, Callable[[str], Any], Any, str]] = [
    ("--lr", real(0.0, above=True), 0.1, "learning rate"),
    ("--momentum", real(0.0, below=1.0), 0.9, "SGD momentum (sgd only)"),
    ("--step-size", whole(1), 50, "epochs per lr step (step), or per factor gamma (exponential)"),
    (
        "--gamma",
        real(0.0, above=True),
        0.5,
        "lr factor of the step, multistep, exponential schedules",
    ),
    ("--l1", real(0.0), 0.0, "L1 penalty λ·Σ|w|"),
    ("--l2", real(0.0), 1e-4, "L2 penalty λ·Σw²"),
    ("--weight-decay", real(0.0), 0.0, "the optimizer's weight decay (decoupled for adamw)"),
    ("--batch-size", whole(1), None, "mini-batch size (default: full batch)"),
    ("--epochs", whole(1, MAX_EPOCHS), 150, "passes over the data"),
    (
        "--patience",
        whole(0),
        None,
        "stop after this many epochs without a better validation loss (default: never)",
    ),
]


def _optimisation_options(p: argparse.ArgumentParser) -> None:
    opt = p.add_argument_group("optimisation")
    opt.add_argument("--optimizer", choices=list(OPTIMIZERS), default="sgd", help="update rule")
    opt.add_argument("--schedule", choices=list(SCHEDULES), default="step", help="lr schedule")
    for flag, kind, default, text in _NUMBERS:
        opt.add_argument(flag, type=kind, default=default, help=text)


def add_options(p: argparse.ArgumentParser, demo: bool = False) -> None:
    """The options of `train` (and `demo`, whose defaults turn batch norm and dropout on)."""
    _data_options(p)
    _network_options(p, demo)
    _optimisation_options(p)
    run_group = p.add_argument_group("run")
    run_group.add_argument("--seed", type=whole(0), default=0, help="seeds data, weights, dropout")
    run_group.add_argument("--out", type=Path, default=Path("out"), help="folder for the outputs")
    run_group.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress at all (a bar is drawn only on a terminal; a log gets a line per epoch)",
    )


# --- checks that need more than one option ----------------------------------------------
def _split_sizes(n: int) -> tuple[int, int]:
    """(training, validation) sizes of `train_val_split(.., VAL_FRACTION)`."""
    k = max(1, round(n * VAL_FRACTION))
    return n - k, k


def check(args: argparse.Namespace) -> None:
    """Everything that would fail after training, refused before it: batch sizes batch
    norm cannot take, and outputs that cannot be written (tried: permissions alone say
    nothing for root or on a read-only disk)."""
    n_train, _ = _split_sizes(args.samples)
    if args.batchnorm:
        size = args.batch_size or n_train
        if size < 2 or n_train % size == 1:
            raise UsageError(
                f"argument --batch-size: with --batchnorm every mini-batch needs at least 2 "
                f"samples; {n_train} training samples in batches of {size} leave one of 1"
            )
    check_folder(args.out)
    for name in OUTPUTS:
        try:
            check_writable(args.out / name)
        except CheckpointError as e:
            raise UsageError(f"argument --out: {e}") from None


# --- the command ------------------------------------------------------------------------
def train(args: argparse.Namespace) -> dict[str, Any]:
    """Train as the arguments say; write checkpoint and history; return the summary."""
    maker = DATASETS[args.dataset]
    takes_noise = "noise" in inspect.signature(maker).parameters  # type: ignore[arg-type]
    kwargs = {"noise": args.noise} if takes_noise else {}
    x, y = maker(args.samples, seed=args.seed, **kwargs)  # type: ignore[operator]
    (xt, yt), (xv, yv) = train_val_split(x, y, VAL_FRACTION, seed=args.seed)
    classes = len({int(t) for t in y})
    binary = classes == 2
    model = MLP(
        len(x[0]),
        [*args.widths, 1 if binary else classes],
        args.activation,
        init=args.init,
        batchnorm=args.batchnorm,
        dropout=args.dropout,
        seed=args.seed,
    )
    params = model.parameters()
    opt = OPTIMIZERS[args.optimizer](params, args)
    hist = fit(
        model,
        xt,
        yt,
        opt,
        epochs=args.epochs,
        loss=HINGE if binary else CROSS_ENTROPY,
        batch_size=args.batch_size,
        val=(xv, yv),
        scheduler=SCHEDULES[args.schedule](opt, args),
        l1=args.l1,
        l2=args.l2,
        patience=args.patience,
        progress=not args.no_progress,
        seed=args.seed,
    )
    model_file, history_file = (args.out / name for name in OUTPUTS)
    save(model, model_file, {"epochs": hist.epochs, "args": _jsonable(vars(args))})
    write_json(history_file, hist.to_dict())
    summary = {
        "dataset": args.dataset,
        "layers": " → ".join(_describe(m) for m in _leaf_modules(model)),
        "epochs": hist.epochs,
        "best_epoch": hist.best_epoch,
        "train_loss": hist.train_loss[-1],
        "train_acc": hist.train_acc[-1],
        "val_loss": hist.val_loss[-1],
        "val_acc": hist.val_acc[-1],
        "seconds": hist.seconds,
        "batch": args.batch_size or len(yt),
        "parameters": len(params),
        "stopped_early": hist.stopped_early,
    }
    return {"model": model, "history": hist, "summary": summary, "data": (xt, yt, xv, yv)}


def _leaf_modules(model: Module) -> list[Module]:
    """The modules that compute (no sub-modules), in the order they run."""
    return [m for m in model.modules() if not any(True for _ in m.children())]


def _describe(m: Module) -> str:
    """One module in the summary line, as its repr: `Dropout(p=0.1)`."""
    return f"{type(m).__name__}({m.extra_repr()})"


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in d.items()}


def print_summary(s: dict[str, Any], out: Path) -> None:
    """The run in a few lines (no carriage returns: it reads the same in a log)."""
    print(f"\nchainrule: trained an MLP on {s['dataset']} ({s['parameters']} parameters)")
    print(
        textwrap.fill(
            s["layers"], 100, initial_indent="  layers:      ", subsequent_indent=" " * 15
        )
    )
    early = f" (stopped early, restored epoch {s['best_epoch']})" if s["stopped_early"] else ""
    print(f"  epochs:      {s['epochs']}{early} in {s['seconds']:.1f} s")
    print(f"  each step:   one batched graph for a mini-batch of up to {s['batch']} samples")
    print(f"  train:       loss {s['train_loss']:.4f}  accuracy {s['train_acc']:.1%}")
    print(f"  validation:  loss {s['val_loss']:.4f}  accuracy {s['val_acc']:.1%}")
    print(f"  outputs in   {out}/")


def no_rest(rest: list[str], parser: argparse.ArgumentParser) -> None:
    """Refuse words left over by the parser, with a hint for a mistyped option."""
    if rest:
        raise UsageError(f"unrecognized arguments: {' '.join(rest)}{suggest(rest, parser)}", parser)


def trained(args: argparse.Namespace, rest: list[str], parser: Parser) -> dict[str, Any] | None:
    """Check, then train; None when training diverged (the message printed)."""
    no_rest(rest, parser)
    check(args)
    try:
        return train(args)
    except FloatingPointError as e:
        print(f"chainrule: error: {e}", file=sys.stderr)
        return None


def run(args: argparse.Namespace, rest: list[str], parser: Parser) -> int:
    result = trained(args, rest, parser)
    if result is None:
        return 1
    print_summary(result["summary"], args.out)
    return 0
