"""The shape of the core content files (course, sources, lessons, facts), and the building
blocks every app's part of the format uses. Unknown fields are errors, every text is bilingual."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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
    lessons: list[Slug]  # none yet: a course just made in the browser (learners do not see it)


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


TranslatedList = Annotated[list[Text], Field(min_length=1)]
