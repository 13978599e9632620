"""Scheduled jobs: schedules are rows (`models`), an admin manages them over `/schedules/` (`routes`),
and a task that beat sends every SCHEDULE_CHECK_SECONDS fires the due ones, each once (`service.fire`).

Each queue service says which of its job kinds can be scheduled (`kinds`); every service also has
the storage cleanup (`cleanup`).
"""
