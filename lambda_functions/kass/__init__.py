"""kass: the shared package (becomes the Lambda layer). Importing it has no side effects."""

__version__ = "0.1.0"
