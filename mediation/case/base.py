"""The strict Pydantic base model that every part of a case derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["StrictModel"]


class StrictModel(BaseModel):
    """A frozen model that reads JSON strictly and keeps the input out of its error messages.

    It takes JSON types as they are (``true`` is not a number) and refuses NaN, infinities and
    unknown keys.
    """

    model_config = ConfigDict(
        strict=True, extra="forbid", allow_inf_nan=False, frozen=True, hide_input_in_errors=True
    )
