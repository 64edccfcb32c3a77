"""The core below the shell: settings, the application object (engine, schema checks), the
management API (sync, watchlist, outlets), search and status, and the jobs the scheduler, the
workers and the CLI run. `mediawatch` (the CLI) imports it; nothing here imports `mediawatch`
(checked by the import contracts in pyproject.toml)."""
