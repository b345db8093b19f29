"""The `chainrule` command: train a network, run the demo, draw an expression's graph.

    chainrule train --dataset moons --widths 16 16 --activation relu --init he \\
        --optimizer sgd --lr 0.1 --momentum 0.9 --schedule step --l2 1e-4 --epochs 150
    chainrule demo --out out
    chainrule graph "tanh(x*w + b)" --x 2 --w -3 --b 6.88 --out out/neuron --format png
    chainrule playground --port 8000

It sits above `nn` and `viz` (`nn` never imports `viz`) and holds the command line's names:
the tables OPTIMIZERS and SCHEDULES map a name to the library object it builds.

Every option is checked before anything is trained or written: a bad one ends the program
with exit status 2 and one line `chainrule: error: ...` on stderr (an unknown option also
shows its subcommand's usage); a failure while running (training diverged, `dot` missing)
with status 1 and one such line.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import inspect
import math
import os
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from chainrule._version import __version__
from chainrule.engine import Value
from chainrule.nn.checkpoint import save, write_json
from chainrule.nn.data import DATASETS, train_val_split
from chainrule.nn.init import INITS
from chainrule.nn.layers import MLP
from chainrule.nn.module import Module
from chainrule.nn.optim import (
    SGD,
    Adam,
    CosineAnnealingLR,
    ExponentialLR,
    LRScheduler,
    MultiStepLR,
    Optimizer,
    StepLR,
)
from chainrule.nn.train import fit

OUTPUTS = ("model.json", "history.json")  # what `train` writes into --out
VAL_FRACTION = 0.2  # held out for validation
MIN_SAMPLES = 10  # so that both the training and the validation split have samples
# Upper limits: a scalar engine takes minutes past these; larger values are typos.
MAX_SAMPLES = 100_000
MAX_WIDTH = 1_000
MAX_EPOCHS = 1_000_000

OPTIMIZERS: dict[str, Callable[[list[Value], argparse.Namespace], Optimizer]] = {
    "sgd": lambda p, a: SGD(p, lr=a.lr, momentum=a.momentum, weight_decay=a.weight_decay),
    "adam": lambda p, a: Adam(p, lr=a.lr, weight_decay=a.weight_decay),
}
SCHEDULES: dict[str, Callable[[Optimizer, argparse.Namespace], LRScheduler | None]] = {
    "none": lambda o, a: None,
    "step": lambda o, a: StepLR(o, a.step_size, a.gamma),
    "multistep": lambda o, a: MultiStepLR(
        o, [max(1, a.epochs // 2), max(1, 3 * a.epochs // 4)], a.gamma
    ),
    "exponential": lambda o, a: ExponentialLR(o, a.gamma ** (1 / a.step_size)),
    "cosine": lambda o, a: CosineAnnealingLR(o, a.epochs),
}
ACTIVATIONS = ("relu", "tanh", "sigmoid")


class UsageError(Exception):
    """A bad command line; `parser` is set when its usage should be shown too."""

    def __init__(self, message: str, parser: argparse.ArgumentParser | None = None) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors raised (main prints them as one line) instead of printed
    with the usage; only an unknown or missing argument shows the usage."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # no prefixes: `graph "o*2" --o 3` must set the variable o, not --out
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        usage = message.startswith(("unrecognized arguments", "the following arguments"))
        usage |= "invalid choice" in message and message.startswith("argument command")
        raise UsageError(message, self if usage else None)


class _Help(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every option's default in --help (unless its help says it), and descriptions laid
    out as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        return text if "default" in text else super()._get_help_string(action) or ""


# --- option types: each refuses what would fail later, with the reason ----------------
def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {value}")
        return value

    parse.__name__ = "whole number"
    return parse


def _real(
    low: float = 0.0, *, above: bool = False, below: float | None = None
) -> Callable[[str], float]:
    """A finite number >= low (> low with `above`), < below if given."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if value < low or (above and value == low) or (below is not None and value >= below):
            lo = f"> {low:g}" if above else f">= {low:g}"
            hi = f" and < {below:g}" if below is not None else ""
            raise argparse.ArgumentTypeError(f"must be {lo}{hi}, got {text}")
        return value

    parse.__name__ = "number"
    return parse


def _add_train_options(p: argparse.ArgumentParser, demo: bool = False) -> None:
    data = p.add_argument_group("data")
    data.add_argument("--dataset", choices=sorted(DATASETS), default="moons", help="toy data set")
    data.add_argument(
        "--samples",
        type=_whole(MIN_SAMPLES, MAX_SAMPLES),
        default=200,
        help=f"number of points ({VAL_FRACTION * 100:.0f}%% held out for validation)",
    )
    data.add_argument(
        "--noise", type=_real(0.0), default=0.1, help="std of the noise (moons, circles, spirals)"
    )
    net = p.add_argument_group("network")
    net.add_argument(
        "--widths",
        type=_whole(1, MAX_WIDTH),
        nargs="+",
        default=[16, 16],
        help="hidden layer widths",
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
        type=_real(0.0, below=1.0),
        default=0.1 if demo else 0.0,
        help="probability of dropping a hidden unit in training",
    )
    opt = p.add_argument_group("optimisation")
    opt.add_argument("--optimizer", choices=list(OPTIMIZERS), default="sgd", help="update rule")
    opt.add_argument("--lr", type=_real(0.0, above=True), default=0.1, help="learning rate")
    opt.add_argument(
        "--momentum", type=_real(0.0, below=1.0), default=0.9, help="SGD momentum (sgd only)"
    )
    opt.add_argument("--schedule", choices=list(SCHEDULES), default="step", help="lr schedule")
    opt.add_argument(
        "--step-size",
        type=_whole(1),
        default=50,
        help="epochs per lr step (step), or per factor gamma (exponential)",
    )
    opt.add_argument(
        "--gamma",
        type=_real(0.0, above=True),
        default=0.5,
        help="lr factor of the step, multistep and exponential schedules",
    )
    opt.add_argument("--l1", type=_real(0.0), default=0.0, help="L1 penalty λ·Σ|w|")
    opt.add_argument("--l2", type=_real(0.0), default=1e-4, help="L2 penalty λ·Σw²")
    opt.add_argument(
        "--weight-decay", type=_real(0.0), default=0.0, help="the optimizer's weight decay"
    )
    opt.add_argument(
        "--batch-size", type=_whole(1), default=None, help="mini-batch size (default: full batch)"
    )
    opt.add_argument(
        "--epochs", type=_whole(1, MAX_EPOCHS), default=150, help="passes over the data"
    )
    opt.add_argument(
        "--patience",
        type=_whole(0),
        default=None,
        help="stop after this many epochs without a better validation loss (default: never)",
    )
    run = p.add_argument_group("run")
    run.add_argument("--seed", type=_whole(0), default=0, help="seeds data, weights, dropout")
    run.add_argument("--out", type=Path, default=Path("out"), help="folder for the outputs")
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def build_parser() -> tuple[_Parser, dict[str, _Parser]]:
    """The parser and each subcommand's parser by name."""
    parser = _Parser(prog="chainrule", description=__doc__.split("\n\n")[0], formatter_class=_Help)
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    subs = {
        "train": sub.add_parser(
            "train",
            help="train an MLP on a toy data set; write model.json and history.json",
            description="Train an MLP on a toy data set; write model.json (the checkpoint)\n"
            "and history.json (losses, accuracies, learning rates) to --out.",
            formatter_class=_Help,
        ),
        "demo": sub.add_parser(
            "demo",
            help="the main job: train on moons and write every picture",
            description="Train on two moons (batch norm and dropout on) and write the\n"
            "checkpoint, the history, plots, a gradient graph and the backprop stepper.",
            formatter_class=_Help,
        ),
        "graph": sub.add_parser(
            "graph",
            help="draw an expression's gradient graph",
            usage="%(prog)s [-h] [--out OUT] [--format {svg,png,pdf}] expression "
            "[--NAME NUMBER ...]",
            description="Build an expression from engine ops, back-propagate, and draw its\n"
            "gradient graph with graphviz's `dot`.",
            epilog="Variables are given as options after the expression, one per name:\n"
            '  chainrule graph "tanh(x*w + b)" --x 2 --w -3 --b 6.88\n'
            "Allowed: numbers, the given names, + - * / ** (powers are **, not ^), unary -,\n"
            "and tanh sigmoid relu exp log sqrt abs softplus. Nothing is evaluated as Python.\n"
            "The expression comes first; no variable may be called out or format.",
            formatter_class=_Help,
        ),
        "playground": sub.add_parser(
            "playground",
            help="serve the interactive playground in a browser",
            description="Serve the playground page on this machine.",
            formatter_class=_Help,
        ),
    }
    _add_train_options(subs["train"])
    _add_train_options(subs["demo"], demo=True)
    g = subs["graph"]
    g.add_argument("expression", help='e.g. "tanh(x*w + b)"')
    g.add_argument(
        "--out", type=Path, default=Path("out/graph"), help="output file name, without suffix"
    )
    g.add_argument("--format", choices=["svg", "png", "pdf"], default="svg", help="image format")
    pg = subs["playground"]
    pg.add_argument("--host", default="127.0.0.1", help="address to listen on")
    pg.add_argument(
        "--port", type=_whole(0, 65535), default=8000, help="port to listen on (0: any free one)"
    )
    pg.add_argument("--no-browser", action="store_true", help="do not open a browser")
    return parser, subs


# --- checks that need more than one option ----------------------------------------------
def _check_folder(folder: Path, option: str = "--out") -> None:
    """`folder` exists as a writable folder, or can be made inside one."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"argument {option}: {folder} is a file, not a folder")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"argument {option}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"argument {option}: cannot write in {existing}")


def _split_sizes(n: int) -> tuple[int, int]:
    """(training, validation) sizes of `train_val_split(.., VAL_FRACTION)`."""
    k = max(1, round(n * VAL_FRACTION))
    return n - k, k


def _check_train(args: argparse.Namespace) -> None:
    n_train, _ = _split_sizes(args.samples)
    if args.batchnorm:
        size = args.batch_size or n_train
        if size < 2 or n_train % size == 1:
            raise UsageError(
                f"argument --batch-size: with --batchnorm every mini-batch needs at least 2 "
                f"samples; {n_train} training samples in batches of {size} leave one of 1"
            )
    _check_folder(args.out)
    for name in OUTPUTS:
        if (args.out / name).is_dir():
            raise UsageError(f"argument --out: {args.out / name} is a folder, not a file")


# --- the commands -----------------------------------------------------------------------
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
        loss="hinge" if binary else "cross_entropy",
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
        "train_loss": hist.train_loss[-1],
        "train_acc": hist.train_acc[-1],
        "val_loss": hist.val_loss[-1],
        "val_acc": hist.val_acc[-1],
        "seconds": hist.seconds,
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


def _print_summary(s: dict[str, Any], out: Path) -> None:
    print(f"\nchainrule: trained an MLP on {s['dataset']} ({s['parameters']} parameters)")
    print(
        textwrap.fill(
            s["layers"], 100, initial_indent="  layers:      ", subsequent_indent=" " * 15
        )
    )
    print(
        f"  epochs:      {s['epochs']}{' (stopped early)' if s['stopped_early'] else ''}"
        f" in {s['seconds']:.1f} s"
    )
    print(f"  train:       loss {s['train_loss']:.4f}  accuracy {s['train_acc']:.1%}")
    print(f"  validation:  loss {s['val_loss']:.4f}  accuracy {s['val_acc']:.1%}")
    print(f"  outputs in   {out}/")


_VARIABLE = re.compile(r"--([A-Za-z_]\w*)(?:=(.*))?")


def _variable_texts(rest: Sequence[str]) -> dict[str, str]:
    """`--x 2 --w=-3` → {"x": "2", "w": "-3"}."""
    texts: dict[str, str] = {}
    i = 0
    while i < len(rest):
        m = _VARIABLE.fullmatch(rest[i])
        if m is None:
            raise UsageError(f"expected a variable as --name value, got {_short(rest[i])}")
        name, text = m.group(1), m.group(2)
        if text is None:
            if i + 1 == len(rest):
                raise UsageError(f"variable --{name} needs a number, e.g. --{name} 2")
            text, i = rest[i + 1], i + 1
        i += 1
        if name in texts:
            raise UsageError(f"variable --{name} is given twice")
        texts[name] = text
    return texts


def _expression_names(text: str) -> set[str] | None:
    """The names the expression uses, functions left out; None if it does not parse
    (the expression parser then says why)."""
    try:
        tree = ast.parse(text, mode="eval")
        nodes = list(ast.walk(tree))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    called = {n.func.id for n in nodes if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {n.id for n in nodes if isinstance(n, ast.Name)} - called


def graph(args: argparse.Namespace, rest: Sequence[str], usage: argparse.ArgumentParser) -> int:
    """Check the `--name value` pairs and --out, then build, back-propagate and render the
    expression. Nothing is written unless everything before the drawing succeeded."""
    from chainrule.viz.expression import parse
    from chainrule.viz.graph import DotError, draw_dot, render

    texts = _variable_texts(rest)
    names = _expression_names(args.expression)
    unused = sorted(set(texts) - names) if names is not None else []
    if unused:  # most likely a mistyped option
        hint = _suggest([f"--{u}" for u in unused], usage)
        raise UsageError(
            f"unrecognized arguments: {' '.join('--' + u for u in unused)} "
            f"(not an option, nor a variable of the expression){hint}",
            usage,
        )
    variables = {}
    for name, text in texts.items():
        try:
            variables[name] = _real(-math.inf)(text)
        except argparse.ArgumentTypeError as e:
            raise UsageError(f"variable --{name}: {e}") from None
    image = args.out.with_name(f"{args.out.name}.{args.format}")
    if args.out.is_dir() or image.is_dir():
        raise UsageError(f"argument --out: {args.out} is a folder; give a file name")
    _check_folder(args.out.parent)
    try:
        root = parse(args.expression, variables, options=("out", "format", "help"))
        root.backward()
        dot = draw_dot(root)
    except (ValueError, ArithmeticError, RecursionError, MemoryError) as e:
        # a deep expression may exhaust the parser's stack (RecursionError, MemoryError)
        message = str(e) or "the expression is nested too deeply"
        if "^" in args.expression and "**" not in message:
            message += " (powers are written **, as in x**2, not ^)"
        raise UsageError(f"graph: {message}") from None
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)  # as `train` makes its --out
        path = render(dot, str(args.out), args.format)
    except DotError as e:  # dot missing, over its time limit, or failed
        print(f"chainrule: error: {e}", file=sys.stderr)
        return 1
    print(f"{args.expression} = {root.data:.6g}; wrote {path}")
    return 0


def playground(args: argparse.Namespace) -> int:
    """Serve `viz.playground` (imported only here: it may be absent)."""
    try:
        from chainrule.viz.playground import serve  # type: ignore[import-not-found, unused-ignore]
    except ModuleNotFoundError as e:
        if e.name not in ("chainrule.viz.playground", "chainrule.viz"):
            raise
        print("chainrule: error: the playground is not part of this install", file=sys.stderr)
        return 1
    serve(args.host, args.port, not args.no_browser)
    return 0


def _suggest(unknown: Sequence[str], parser: argparse.ArgumentParser) -> str:
    """`--epoch` → ` (did you mean --epochs?)`."""
    options = [s for a in parser._actions for s in a.option_strings]
    hints = []
    for u in unknown:
        close = difflib.get_close_matches(u.split("=")[0], options, n=1)
        if close:
            hints.append(f"{u}: did you mean {close[0]}?")
    return f" ({'; '.join(hints)})" if hints else ""


def _short(text: str, n: int = 60) -> str:
    """User text in a message, cut to `n` characters."""
    return repr(text if len(text) <= n else text[: n - 1] + "…")


GRAPH_OPTIONS = ("--out", "--format")


def _split_graph(argv: list[str]) -> tuple[list[str], list[str]]:
    """(what argparse parses, the variables) of `graph EXPR [--out O] [--x 2 ...]`.

    argparse cannot tell that an unknown `--x` takes a value, nor that "-x*2" or "-3" is
    not an option, so the variables and the expression are picked out here: graph's own
    options keep their values, every other `--name` takes the next word as its value, and
    the first remaining word is the expression (it goes behind "--": never an option)."""
    if not argv or argv[0] != "graph":
        return argv, []
    kept, variables, expressions = ["graph"], [], []  # type: tuple[list[str], list[str], list[str]]
    i, words = 1, argv
    while i < len(words):
        word, name = words[i], words[i].split("=", 1)[0]
        i += 1
        if word in ("-h", "--help"):
            kept.append(word)
        elif name in GRAPH_OPTIONS or _VARIABLE.fullmatch(word):
            into = kept if name in GRAPH_OPTIONS else variables
            into.append(word)
            # the value: the next word, unless it is itself an option (`--x --out o`)
            if "=" not in word and i < len(words) and not _VARIABLE.fullmatch(words[i]):
                into.append(words[i])
                i += 1
        else:
            expressions.append(word)
    if len(expressions) > 1:
        extra = ", ".join(_short(e, 30) for e in expressions[1:])
        raise UsageError(
            f"graph takes one expression, then variables as --name value: {extra} is neither "
            '(quote an expression that has spaces: "x * w")'
        )
    return [*kept, "--", *expressions], variables


def run(argv: Sequence[str] | None = None) -> int:
    """Parse and run; UsageError for a bad command line."""
    parser, subs = build_parser()
    words, variables = _split_graph(list(sys.argv[1:] if argv is None else argv))
    args, rest = parser.parse_known_args(words)
    if args.command == "graph":
        return graph(args, [*rest, *variables], subs["graph"])
    if rest:
        raise UsageError(
            f"unrecognized arguments: {' '.join(rest)}{_suggest(rest, subs[args.command])}",
            subs[args.command],
        )
    if args.command == "playground":
        return playground(args)
    _check_train(args)
    try:
        result = train(args)
    except FloatingPointError as e:
        print(f"chainrule: error: {e}", file=sys.stderr)
        return 1
    if args.command == "demo":
        from chainrule.viz.demo import write_demo_outputs

        write_demo_outputs(result, args.out)
    _print_summary(result["summary"], args.out)
    return 0


def _cap(message: str, n: int = 1000) -> str:
    """One line of at most `n` characters (a message may quote a long expression)."""
    line = " ".join(message.split())
    return line if len(line) <= n else line[: n - 1] + "…"


def main(argv: Sequence[str] | None = None) -> int:
    """The `chainrule` console script: exit status 0, 1 (failed) or 2 (bad command line)."""
    try:
        return run(argv)
    except UsageError as e:
        if e.parser is not None:
            e.parser.print_usage(sys.stderr)
        print(f"chainrule: error: {_cap(str(e))}", file=sys.stderr)
        return 2
    except ValueError as e:  # the library refused an argument combination
        print(f"chainrule: error: {_cap(str(e))}", file=sys.stderr)
        return 2
    except OSError as e:  # e.g. the disk is full: the files saved so far are whole
        where = f" {e.filename}" if e.filename else ""
        print(f"chainrule: error: cannot write{where}: {e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
