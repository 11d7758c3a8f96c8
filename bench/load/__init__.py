"""The deadline-day load: seed 10,000 applications, serve them with gunicorn, drive them with locust."""
