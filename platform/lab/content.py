"""The lab's part of the content format: prediction questions. They sit in a lesson's
questions.yaml beside the quiz questions, but the lab answers them (the learner predicts a
figure, then runs the preset), so the lab defines their schema and registers it with the
quizzes' question types (LabConfig.ready)."""

from typing import Literal

from pydantic import Field, field_validator, model_validator

from courses.content.schema import Slug, Translated
from quizzes.content import QuestionBase, question_type_register
from sandbox.presets import BY_KEY
from sandbox.spec import RECURRENT


class Prediction(QuestionBase):
    """Answered in the lab, not in a quiz: the learner predicts a figure, then runs the preset.

    The run grades the prediction: right when the measured figure is within `tolerance`.
    """

    type: Literal["prediction"]
    preset: Slug
    measure: Literal["depth_orders", "growth_orders", "sequence_orders"]
    tolerance: float = Field(gt=0)
    unit: Translated

    @field_validator("preset")
    @classmethod
    def preset_exists(cls, key: str) -> str:
        if key not in BY_KEY:
            raise ValueError(f"no preset is called {key!r}; there are: {', '.join(BY_KEY)}")
        return key

    @model_validator(mode="after")
    def measure_fits_preset(self) -> "Prediction":
        recurrent = BY_KEY[self.preset].spec.get("model", {}).get("arch") in RECURRENT
        if self.measure == "sequence_orders" and not recurrent:
            raise ValueError(f"measure: sequence_orders needs a recurrent preset, and {self.preset!r} is not one")
        return self


def register() -> None:
    question_type_register(Prediction, in_quizzes=False)
