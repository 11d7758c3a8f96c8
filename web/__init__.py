"""The shell: app factory, config, login and tokens, pages, the JSON API, the CLI's commands."""
