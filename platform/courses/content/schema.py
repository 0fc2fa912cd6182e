"""The shape of the content files. Unknown fields are errors, every text is bilingual."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


Text = Annotated[str, AfterValidator(_not_blank)]
Slug = Annotated[str, Field(pattern=SLUG, max_length=50)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Translated(Strict):
    de: Text
    en: Text


class CourseFile(Strict):
    title: Translated
    summary: Translated
    lessons: list[Slug] = Field(min_length=1)


class SourceEntry(Strict):
    key: Slug
    authors: Text
    year: int = Field(ge=1800, le=2100)
    title: Text
    venue: Text
    url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None


class FactEntry(Strict):
    key: Slug
    number: int = Field(ge=1, le=999)
    status: Literal["verified", "simplified", "contested"]
    statement: Translated
    explanation: Translated
    note: Translated | None = None
    sources: list[Slug] = Field(min_length=1)


class LessonFile(Strict):
    title: Translated
    summary: Translated
    facts: list[FactEntry]


# ---------------------------------------------------------------- questions and quizzes

TranslatedList = Annotated[list[Text], Field(min_length=1)]


class AcceptedAnswers(Strict):
    de: TranslatedList
    en: TranslatedList


class Option(Strict):
    key: Slug
    text: Translated
    correct: bool
    feedback: Translated | None = None


class OrderItem(Strict):
    key: Slug
    text: Translated


class MatchPair(Strict):
    key: Slug
    left: Translated
    right: Translated


class QuestionBase(Strict):
    key: Slug
    facts: list[Slug] = Field(min_length=1)
    prompt: Translated
    explanation: Translated


class SingleChoice(QuestionBase):
    type: Literal["single"]
    options: list[Option] = Field(min_length=2, max_length=12)


class MultipleChoice(QuestionBase):
    type: Literal["multiple"]
    options: list[Option] = Field(min_length=2, max_length=12)


class TrueFalse(QuestionBase):
    type: Literal["true_false"]
    answer: bool
    if_true: Translated | None = None  # feedback for who answered "true"
    if_false: Translated | None = None


class ShortAnswer(QuestionBase):
    type: Literal["short"]
    accepted: AcceptedAnswers
    if_wrong: Translated | None = None


class Numeric(QuestionBase):
    type: Literal["numeric"]
    value: float
    tolerance: float = Field(ge=0)
    if_wrong: Translated | None = None


class Ordering(QuestionBase):
    type: Literal["ordering"]
    items: list[OrderItem] = Field(min_length=2, max_length=10)


class Matching(QuestionBase):
    type: Literal["matching"]
    pairs: list[MatchPair] = Field(min_length=2, max_length=10)


class Prediction(QuestionBase):
    """Answered in the lab, not in a quiz: the learner predicts a figure, then runs the preset.

    The run grades the prediction: right when the measured figure is within `tolerance`.
    """

    type: Literal["prediction"]
    preset: Slug
    measure: Literal["depth_orders", "sequence_orders"]
    tolerance: float = Field(gt=0)
    unit: Translated

    @field_validator("preset")
    @classmethod
    def preset_exists(cls, key: str) -> str:
        from sandbox.presets import BY_KEY

        if key not in BY_KEY:
            raise ValueError(f"no preset is called {key!r}; there are: {', '.join(BY_KEY)}")
        return key

    @model_validator(mode="after")
    def measure_fits_preset(self) -> "Prediction":
        from sandbox.presets import BY_KEY

        recurrent = BY_KEY[self.preset].spec.get("model", {}).get("arch") in ("rnn", "lstm")
        if self.measure == "sequence_orders" and not recurrent:
            raise ValueError(f"measure: sequence_orders needs a recurrent preset, and {self.preset!r} is not one")
        return self


QuestionEntry = Annotated[
    SingleChoice | MultipleChoice | TrueFalse | ShortAnswer | Numeric | Ordering | Matching | Prediction,
    Field(discriminator="type"),
]


class Pool(Strict):
    size: int = Field(ge=1, le=100)
    lessons: list[Slug] = Field(default_factory=list)
    facts: list[Slug] = Field(default_factory=list)


class QuizEntry(Strict):
    key: Slug
    title: Translated
    lesson: Slug | None = None
    questions: list[Slug] | None = None
    pool: Pool | None = None


# ---------------------------------------------------------------- flashcards


class CardBase(Strict):
    key: Slug
    fact: Slug


class BasicCard(CardBase):
    type: Literal["basic"]
    front: Translated
    back: Translated


class ReversedCard(CardBase):
    """Two cards: front to back, and back to front."""

    type: Literal["reversed"]
    front: Translated
    back: Translated


class ClozeCard(CardBase):
    """One card per {{…}} gap in the text; both languages have the same gaps."""

    type: Literal["cloze"]
    text: Translated
    extra: Translated | None = None


CardEntry = Annotated[BasicCard | ReversedCard | ClozeCard, Field(discriminator="type")]
