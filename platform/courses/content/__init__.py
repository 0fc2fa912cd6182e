"""Course content as files: read and validate them, write them back canonically."""
