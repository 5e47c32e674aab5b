"""`kass serve`: the Lambda functions run locally behind an API-Gateway-compatible HTTP server.

The server builds the same events AWS sends (`events`), calls the real handlers
(`functions`), and stands in for S3 → EventBridge → SQS with a folder watcher (`watcher`), so
the local profile exercises the code that runs in AWS rather than a parallel path.
"""
