"""AWS adapters of the ports (OpenSearch, DynamoDB, S3, Bedrock, SageMaker).

Only these modules import boto3 or opensearch-py, and each imports them where it is used, so
handlers that do not touch a service do not pay for its import at cold start.
"""
