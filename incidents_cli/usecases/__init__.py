"""What each command does, in terms of the core and the edges, returning a result."""
