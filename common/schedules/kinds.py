"""What can be scheduled: each queue service lists its job kinds, with their parameters and how to submit one.

A kind reuses the submission function the service's own API route calls (`petshop.app.jobs.submit_report`
…), so a scheduled run is checked and recorded exactly like one a person asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from common.enqueue import Enqueuer
from common.errors import BadInput
from common.jobs import Job
from common.security import Principal
from common.validation_messages import describe_validation_errors

Check = Callable[..., None]  # (*, session, params) -> None; raises NotFound/BadInput for what the schema cannot see
Submit = Callable[..., Job]  # (*, session, enqueuer, owner, params) -> Job


@dataclass(frozen=True)
class ScheduledKind:
    """A job kind an admin may schedule on one service."""

    name: str  # the job kind, as `GET /jobs/` shows it
    description: str  # in Spanish, for the admin choosing one
    params: type[BaseModel]  # the parameters a schedule stores; unknown fields refused
    submit: Submit  # queue one run; raises DomainError when it cannot (the store is gone, the quota is full)
    check: Check | None = None  # at creation: what the submission would refuse later (the store exists)

    def parse(self, raw: dict) -> BaseModel:
        """The schedule's params as this kind's model, or a Spanish 422 naming the field."""
        try:
            return self.params.model_validate(raw)
        except ValidationError as exc:
            errors = [{**error, "loc": ("params", *error.get("loc", ()))} for error in exc.errors()]
            summary, _ = describe_validation_errors(errors)
            raise BadInput(summary, code="schedule_bad_params") from None

    def validate(self, *, session: Session, raw: dict) -> dict:
        """Parse and check `raw` now; the JSON to store on the schedule."""
        params = self.parse(raw)
        if self.check is not None:
            self.check(session=session, params=params)
        return params.model_dump(mode="json")

    def fire(self, *, session: Session, enqueuer: Enqueuer, owner: Principal, raw: dict) -> Job:
        return self.submit(session=session, enqueuer=enqueuer, owner=owner, params=self.parse(raw))


class Kinds:
    """The kinds of one service, by name."""

    def __init__(self, service: str, kinds: Sequence[ScheduledKind]):
        self.service = service
        self._by_name = {kind.name: kind for kind in kinds}

    def __iter__(self):
        return iter(self._by_name.values())

    def get(self, name: str) -> ScheduledKind:
        try:
            return self._by_name[name]
        except KeyError:
            raise BadInput(
                f"«{name}» no es un tipo de trabajo programable en {self.service}. "
                f"Elige uno de: {', '.join(sorted(self._by_name))}.",
                code="schedule_unknown_kind",
            ) from None
