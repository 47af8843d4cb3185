"""The sweep file: what varies over a base case, how it varies, and how many scenarios to settle.

A sweep file (YAML or JSON, read by the same safe loader as a case, within the same size
limits) has these keys:

``sweep_version`` (required, ``"1.0"``)
    The version of this format.
``seed`` (required, an integer in [0, 2**63 - 1])
    The draws of every scenario depend on the seed and the scenario's number only.
``samples`` (integer ≥ 1, default 1)
    Draws of the distributions per grid point. With no distribution it must be 1.
``parameters`` (required, 1 to :data:`MAX_PARAMETERS` items)
    Each has a ``path`` (see :mod:`mediation.sweep.plan` for what a path may address) and
    exactly one of ``grid`` (a list of numbers, every one of them tried) or ``distribution``:

    - ``{kind: uniform, low, high}``;
    - ``{kind: triangular, low, mode, high}``;
    - ``{kind: normal, mean, sd}``, truncated to the field's valid range, or to
      ``[low, high]`` when given (inside that range); the mean must lie in the interval;
    - ``{kind: choice, values: [...], weights: [...]}`` (weights optional, default equal).
``policy`` (mapping, optional)
    Overrides of the case's policy for every scenario: ``rule``, ``scale``, ``method``,
    ``individually_rational``, ``envy_free``, ``proportional``, ``loss_tolerance``.
``robust`` (boolean, default false)
    Also compute one robust split over the sampled scenarios (:mod:`mediation.sweep.robust`).
``time_limit`` (number of seconds in (0, 3600], default 60)
    The time limit of each scenario's settlement.
``description`` (text), ``extensions`` (JSON data of your own, never interpreted).

Unknown keys are errors, as in a case. :func:`parse_sweep` checks the file on its own (types,
ranges, ``low < high``, one of grid or distribution); :func:`mediation.sweep.plan_sweep`
then checks it against the case it varies. Both report every problem at once, each with
its field path (``parameters[2].distribution.high``), as a :class:`~mediation.errors.SweepError`.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from ..case.base import StrictModel
from ..case.documents import Format, parse_document
from ..case.limits import MAX_TEXT
from ..case.model import Extensions
from ..case.parse import _problem
from ..errors import CaseError, Problem, SweepError, describe, field_path

__all__ = [
    "MAX_GRID",
    "MAX_PARAMETERS",
    "MAX_SCENARIOS",
    "SWEEP_VERSION",
    "Choice",
    "Distribution",
    "Normal",
    "Parameter",
    "PolicyOverrides",
    "SweepSpec",
    "Triangular",
    "Uniform",
    "load_sweep",
    "parse_sweep",
]

#: The version of the sweep format this module reads.
SWEEP_VERSION = "1.0"
#: Parameters one sweep may vary.
MAX_PARAMETERS = 100
#: Values of one grid or one choice.
MAX_GRID = 10_000
#: Scenarios of one sweep (grid points times samples).
MAX_SCENARIOS = 10_000_000
#: The largest seed: numpy's seed sequences take any non-negative integer; this one fits
#: a signed 64-bit column of a results file.
MAX_SEED = 2**63 - 1


class Uniform(StrictModel):
    """Every value in ``[low, high]`` equally likely."""

    kind: Literal["uniform"]
    low: float
    high: float


class Triangular(StrictModel):
    """The triangular distribution on ``[low, high]`` with its peak at ``mode``."""

    kind: Literal["triangular"]
    low: float
    mode: float
    high: float


class Normal(StrictModel):
    """A normal distribution truncated to the field's valid range, or to ``[low, high]``."""

    kind: Literal["normal"]
    mean: float
    sd: float = Field(gt=0.0)
    low: float | None = None
    high: float | None = None


class Choice(StrictModel):
    """One of ``values``, drawn with the given ``weights`` (equal when left out)."""

    kind: Literal["choice"]
    values: list[float] = Field(min_length=1, max_length=MAX_GRID)
    weights: list[Annotated[float, Field(ge=0.0)]] | None = None


#: A distribution, chosen by its ``kind``.
Distribution = Annotated[Uniform | Triangular | Normal | Choice, Field(discriminator="kind")]

_DISTRIBUTIONS: dict[str, type[StrictModel]] = {
    "uniform": Uniform,
    "triangular": Triangular,
    "normal": Normal,
    "choice": Choice,
}


class Parameter(StrictModel):
    """One field of the case that varies: its path, and a grid or a distribution."""

    path: Annotated[str, Field(min_length=1, max_length=300)]
    grid: list[float] | None = Field(default=None, min_length=1, max_length=MAX_GRID)
    distribution: Distribution | None = None

    @property
    def is_grid(self) -> bool:
        """Whether the parameter takes every value of a grid (else it is drawn)."""
        return self.grid is not None


class PolicyOverrides(StrictModel):
    """The policy keys a sweep may override (``None`` keeps the case's)."""

    rule: str | None = None
    scale: str | None = None
    individually_rational: bool | None = None
    envy_free: bool | None = None
    proportional: bool | None = None
    method: str | None = None
    loss_tolerance: float | None = Field(default=None, ge=0.0, le=1.0)


class SweepSpec(StrictModel):
    """A sweep: parameters that vary over a base case, the samples and the seed."""

    sweep_version: Literal["1.0"]
    seed: int = Field(ge=0, le=MAX_SEED)
    samples: int = Field(default=1, ge=1, le=MAX_SCENARIOS)
    parameters: list[Parameter] = Field(min_length=1, max_length=MAX_PARAMETERS)
    policy: PolicyOverrides = Field(default_factory=PolicyOverrides)
    robust: bool = False
    time_limit: float = Field(default=60.0, gt=0.0, le=3600.0)
    description: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    extensions: Extensions | None = None

    @property
    def grid_points(self) -> int:
        """How many combinations of the grid values there are (1 without a grid)."""
        points = 1
        for p in self.parameters:
            if p.grid is not None:
                points *= len(p.grid)
        return points

    @property
    def scenarios(self) -> int:
        """How many scenarios the sweep settles: grid points times samples."""
        return self.grid_points * self.samples

    def digest(self) -> str:
        """Return the SHA-256 of the validated sweep's canonical JSON, as hex.

        Examples
        --------
        >>> spec = parse_sweep({"sweep_version": "1.0", "seed": 1, "parameters": [
        ...     {"path": "issues.x.amount", "grid": [1, 2]}]})
        >>> spec.digest() == parse_sweep(spec.model_dump(mode="json")).digest()
        True
        """
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def parse_sweep(data: object) -> SweepSpec:
    """Validate a parsed sweep document (a mapping, as from YAML or JSON) into a :class:`SweepSpec`.

    This checks the file on its own; :func:`mediation.sweep.plan_sweep` checks it against the
    case it varies.

    Parameters
    ----------
    data
        The document, e.g. the result of :func:`mediation.case.parse_document`.

    Returns
    -------
    SweepSpec

    Raises
    ------
    SweepError
        Listing every problem, each with the path of the offending field.

    Examples
    --------
    >>> spec = parse_sweep({"sweep_version": "1.0", "seed": 7, "samples": 10, "parameters": [
    ...     {"path": "issues.risk.probability",
    ...      "distribution": {"kind": "uniform", "low": 0.1, "high": 0.3}}]})
    >>> spec.scenarios
    10
    >>> parse_sweep({"sweep_version": "1.0", "seed": 7, "parameters": [
    ...     {"path": "issues.risk.probability",
    ...      "distribution": {"kind": "uniform", "low": 0.3, "high": 0.1}}]})
    Traceback (most recent call last):
    ...
    mediation.errors.SweepError: 1 problem in the sweep:
      parameters[0].distribution.high: must be above low (0.3), got 0.3 > 0.1
    """
    if not isinstance(data, dict):
        raise SweepError(
            [
                Problem(
                    "",
                    f"a sweep must be a mapping of keys to values, got {describe(data)}",
                    "model_type",
                )
            ]
        )
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise SweepError(_problem_of(e) for e in exc.errors()) from None
    problems = _own_problems(spec)
    if problems:
        raise SweepError(problems)
    return spec


def load_sweep(text: str | bytes, *, format: Format = "yaml") -> SweepSpec:
    """Parse and validate a sweep document given as YAML or JSON text.

    Raises
    ------
    SweepError
        When the text is not a well-formed document within the size limits, or not a valid
        sweep (see :func:`parse_sweep`).

    Examples
    --------
    >>> spec = load_sweep('''
    ... sweep_version: "1.0"
    ... seed: 1
    ... parameters:
    ...   - {path: pins.cost-overrun.minzhengju, grid: [0.3, 0.6]}
    ... ''')
    >>> spec.parameters[0].grid
    [0.3, 0.6]
    """
    try:
        data = parse_document(text, format=format)
    except CaseError as exc:
        raise SweepError(exc.problems) from None
    return parse_sweep(data)


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """Return the model whose keys are allowed at ``loc`` (a location ending in a key)."""
    model: type[BaseModel] = SweepSpec
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if model is SweepSpec and part == "parameters":
            model = Parameter
        elif model is SweepSpec and part == "policy":
            model = PolicyOverrides
        elif model is Parameter and part == "distribution":
            continue  # the next part is the distribution's kind
        elif part in _DISTRIBUTIONS:
            model = _DISTRIBUTIONS[part]
        else:
            return None
    return model


def _problem_of(error: Any) -> Problem:
    """Return a Pydantic error of the sweep as a problem naming the field in the file's keys."""
    raw = tuple(error["loc"])
    # a distribution's errors are located under its kind ("distribution.uniform.low"): the
    # file says "distribution.low"
    loc = tuple(
        part
        for k, part in enumerate(raw)
        if not (k and raw[k - 1] == "distribution" and part in _DISTRIBUTIONS)
    )
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        model = _model_at(raw)
        message = f"unknown key '{loc[-1]}'"
        if model is not None:
            allowed = [k for k in model.model_fields if k != "kind" or model is not Parameter]
            message += f" (allowed: {', '.join(allowed)})"
        return Problem(field_path(loc[:-1]), message, kind)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        kinds = ", ".join(_DISTRIBUTIONS)
        tag = ctx.get("tag")
        found = f"unknown distribution kind '{tag}'" if tag else "'kind' is missing"
        return Problem(field_path((*loc, "kind")), f"{found}; choose one of {kinds}", kind)
    if kind == "literal_error" and loc == ("sweep_version",):
        return Problem("sweep_version", f'must be "{SWEEP_VERSION}"', kind)
    if kind == "model_attributes_type":
        return Problem(field_path(loc), "must be a mapping", kind)
    return _problem(error | {"loc": loc})


def _own_problems(spec: SweepSpec) -> list[Problem]:
    """Return the problems a sweep has on its own: bounds in order, one kind per row."""
    problems: list[Problem] = []
    drawn = False
    for k, p in enumerate(spec.parameters):
        here = f"parameters[{k}]"
        if (p.grid is None) == (p.distribution is None):
            problems.append(
                Problem(
                    here,
                    "give exactly one of 'grid' (every value is tried) and 'distribution' "
                    "(values are drawn)",
                    "grid_or_distribution",
                )
            )
            continue
        d = p.distribution
        drawn |= d is not None
        at = f"{here}.distribution"
        if isinstance(d, Uniform | Triangular) and not d.low < d.high:
            problems.append(
                Problem(
                    f"{at}.high",
                    f"must be above low ({d.low:g}), got {d.low:g} > {d.high:g}"
                    if d.low > d.high
                    else f"must be above low, got low = high = {d.low:g}",
                    "bounds_order",
                )
            )
        elif isinstance(d, Triangular) and not d.low <= d.mode <= d.high:
            problems.append(
                Problem(
                    f"{at}.mode",
                    f"must lie in [low, high] = [{d.low:g}, {d.high:g}], got {d.mode:g}",
                    "bounds_order",
                )
            )
        elif isinstance(d, Normal):
            low = -float("inf") if d.low is None else d.low
            high = float("inf") if d.high is None else d.high
            if d.low is not None and d.high is not None and not d.low < d.high:
                problems.append(
                    Problem(f"{at}.high", f"must be above low ({d.low:g})", "bounds_order")
                )
            elif not low <= d.mean <= high:
                problems.append(
                    Problem(
                        f"{at}.mean",
                        f"must lie in [low, high] = [{low:g}, {high:g}], got {d.mean:g}",
                        "bounds_order",
                    )
                )
        elif isinstance(d, Choice) and d.weights is not None:
            if len(d.weights) != len(d.values):
                problems.append(
                    Problem(
                        f"{at}.weights",
                        f"must have one weight per value ({len(d.values)}), got {len(d.weights)}",
                        "weights_length",
                    )
                )
            elif not sum(d.weights) > 0:
                problems.append(Problem(f"{at}.weights", "must not all be 0", "weights_zero"))
    if spec.samples > 1 and not drawn and not problems:
        problems.append(
            Problem(
                "samples",
                f"is {spec.samples} but no parameter has a distribution: every sample of a "
                "grid point would be the same scenario; set samples to 1 or give a "
                "parameter a distribution",
                "samples_without_distribution",
            )
        )
    if spec.scenarios > MAX_SCENARIOS:
        problems.append(
            Problem(
                "samples",
                f"the sweep has {spec.grid_points} grid points × {spec.samples} samples = "
                f"{spec.scenarios} scenarios, above the limit of {MAX_SCENARIOS}",
                "too_large",
            )
        )
    return problems
