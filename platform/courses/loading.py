"""Upserting content rows by stable key, and what a load changed: shared by every app's content."""

from dataclasses import dataclass, field

from django.db.models import Model


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)  # label -> changed fields
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # courses an import replaced on purpose (--replace)
    kept: list[str] = field(default_factory=list)  # courses left as the database holds them
    courses: list[str] = field(default_factory=list)  # the keys of the courses loaded
    warnings: list[str] = field(default_factory=list)  # what the files should fix, though it stopped nothing

    def record_update(self, label: str, fields: list[str]) -> None:
        if label in self.unchanged:
            self.unchanged.remove(label)
        self.updated.setdefault(label, []).extend(fields)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)


def upsert(model: type[Model], *, lookup: dict, values: dict, label: str, report: LoadReport) -> Model:
    row = model.objects.filter(**lookup).first()
    if row is None:
        row = model.objects.create(**lookup, **values)
        report.created.append(label)
        return row
    differs = [name for name, value in values.items() if getattr(row, name) != value]
    if differs:
        for name in differs:
            setattr(row, name, values[name])
        row.save(update_fields=differs)
        report.record_update(label, differs)
    else:
        report.unchanged.append(label)
    return row


def links_set(
    owner: Model,
    *,
    through: type[Model],
    owner_field: str,
    target_field: str,
    targets: dict[str, Model],
    wanted: list[str],
    label: str,
    report: LoadReport,
) -> None:
    """Make the owner's ordered links (a through model with a position) name `wanted`, by key."""
    links = through.objects.filter(**{owner_field: owner})
    if list(links.order_by("position").values_list(f"{target_field}__key", flat=True)) == wanted:
        return
    links.delete()
    through.objects.bulk_create(
        through(**{owner_field: owner, target_field: targets[key], "position": index})
        for index, key in enumerate(wanted)
    )
    if label not in report.created:
        report.record_update(label, [target_field + "s"])
