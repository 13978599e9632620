"""Notifications: a job's owner hears that it finished, by e-mail (SMTP), SMS (Twilio's API) or webhook.

- `models.py`: the `notify_*` tables (preferences, webhook endpoints, the delivery log);
- `service.py`: preferences and endpoints (the API on the auth service), reading the log;
- `router.py`: that API (`/users/me/notificaciones...`, `/notificaciones/entregas`);
- `messages.py`: what each channel says (Spanish), from a job and its service's summary;
- `channels.py` + `signing.py`: how each channel sends (smtplib, httpx) and signs webhooks;
- `deliveries.py`: planning deliveries for a finished job, and each attempt's bookkeeping;
- `tasks.py`: the finish hook (queues one task, nothing else) and the Celery tasks.
"""
