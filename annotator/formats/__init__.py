"""File formats, one module each, registered by name (see `registry`)."""
