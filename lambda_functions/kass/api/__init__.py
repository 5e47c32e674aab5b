"""The HTTP surface shared by the Lambda handlers and `kass serve`."""
