"""Background work of the research app, run by the huey workers."""

from huey.contrib.djhuey import db_task

from alliance.research import services


@db_task()
def suggest_themes_task(*, suggestion_id: int) -> str:
    """Group a project's responses by meaning (see ``services.suggestion_run``)."""
    return services.suggestion_run(suggestion_id=suggestion_id)
