"""Live facts from the AWS account (offerings, instance specs, spot prices, quotas), for pre-flight checks.

Only sizing/live/aws.py talks to AWS, and it imports boto3 inside its functions: importing this package, or the
engine, never imports boto3. The engine takes the facts as plain inputs (LiveFacts)."""
