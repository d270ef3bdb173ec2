"""The repository on disk: files, safe YAML, git, schemas, the cache, carrying out a change."""
