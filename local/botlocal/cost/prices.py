"""The price table `botctl cost` multiplies counts by: us-east-1 list prices, each with its source.

Every figure carries where it was read and when. "Read" is the day the copy was read, or the day the
stored copy itself was taken where it says so (most do not); a third party's page is named as such,
and a price nobody could read a copy of says "not checked". Free tiers are not subtracted: the
model is of a bot at scale, and a free tier is per account, shared with whatever else runs there.

The latency per AWS call is here too: stubbed calls take microseconds, real ones do not, and a
Lambda function is billed while it waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: The day the copies below were read.
READ_ON: Final = "2026-12-03"
NOT_CHECKED: Final = "not checked"


@dataclass(frozen=True)
class Price:
    """One list price: `usd` per `unit`."""

    key: str
    usd: float
    unit: str
    source: str
    read: str = READ_ON
    note: str = ""


_AWS_LAMBDA = (
    "https://aws.amazon.com/lambda/pricing/ (stored copy via a proxy); rates: git.mcrn.ar lambda-13-cost.md "
    "and cloudchipr.com/blog/aws-lambda-pricing (third parties quoting it)"
)
_AWS_SFN = (
    "http://aws.amazon.com/step-functions/pricing/ (stored copy); rates: "
    "wring.co/blog/aws-step-functions-pricing-guide (third party)"
)
_AWS_REKOGNITION = (
    "https://aws.amazon.com/vi/rekognition/pricing/ (stored copy: DetectLabels is in group 2); rate: "
    "raw.githubusercontent.com/api-evangelist/amazon-rekognition/refs/heads/main/plans/"
    "amazon-rekognition-plans-pricing.yml (third party quoting aws.amazon.com/rekognition/pricing/, read there "
    "2026-10-07: group 2 (DetectLabels), first 1 million images, $0.0010 per image; next tier $0.0008)"
)
_AWS_COMPREHEND = (
    "https://aws.amazon.com/de/comprehend/pricing/ (stored copy: 100-character units, 3-unit minimum); rate: "
    "cloudzero.com/blog/amazon-comprehend-pricing (third party)"
)
_LEX = "https://www.cloudzero.com/blog/amazon-lex-pricing (third party quoting Lex V2's list price)"
_EVENTBRIDGE = "https://cloudburn.io/blog/amazon-eventbridge-pricing (third party, us-east-1, March 2026)"
_FIREHOSE = (
    "https://aws.amazon.com/de/kinesis/data-firehose/pricing/ (stored copy: 5 KB rounding per record); "
    f"rate: {NOT_CHECKED} (the stored de, jp, ru and tr copies of that page state the rounding, not the rate)"
)
_DYNAMODB = (
    "https://airbyte.com/data-engineering-resources/dynamodb-pricing "
    "(third party: on-demand after the November 2024 cut)"
)
_CLOUDWATCH = (
    "https://aws.amazon.com/cloudwatch/pricing/ (stored copy: free tier only); rates: factualminds.com "
    "and signoz.io/guides/cloudwatch-pricing (third parties)"
)
_API_GATEWAY = (
    "https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/"
    "cost-optimization.html (AWS whitepaper, table 4, stored copy in Portuguese site's English text)"
)
_S3 = "https://c3x.dev/blog/s3-request-fees-explained (third party: S3 Standard request tiers)"
_SQS = "https://cloudburn.io/blog/amazon-sqs-pricing (third party, us-east-1, March 2026)"
_SNS = "https://awsnegotiations.com/sqs-sns-cost-optimization.html (third party: 'approximately' $0.50 per million)"
_KMS = "https://www.wring.co/blog/aws-kms-pricing-guide and cloudburn.io/blog/aws-kms-pricing (third parties)"
_SECRETS = (
    "raw.githubusercontent.com/api-evangelist/amazon-secrets-manager/refs/heads/main/plans/"
    "amazon-secrets-manager-plans-pricing.yml (third party quoting https://aws.amazon.com/secrets-manager/pricing/, "
    "read there 2026-09-20: $0.40 / secret / month, $0.05/10,000 calls)"
)
_SSM = (
    "https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html (stored copy: the "
    "default standard throughput is used 'without additional cost') and the user guide's "
    "parameter-store-advanced-parameters.html (standard parameters: 'No additional charge')"
)
_XRAY = (
    "https://aws.amazon.com/de/xray/pricing/ (stored copy: recorded traces beyond the free tier "
    "'5 USD pro Million (0,000005 USD pro Ablaufverfolgung)'; the first 100,000 a month are free)"
)

PRICES: Final[dict[str, Price]] = {
    price.key: price
    for price in (
        # Compute
        Price("lambda.request", 0.20 / 1_000_000, "request", _AWS_LAMBDA),
        Price("lambda.gb_second", 0.0000166667, "GB-second (x86_64)", _AWS_LAMBDA),
        Price("sfn.express.request", 1.00 / 1_000_000, "execution", _AWS_SFN),
        Price("sfn.express.gb_second", 0.00001667, "GB-second (64 MB chunks, 100 ms rounding)", _AWS_SFN),
        Price("sfn.standard.transition", 0.025 / 1_000, "state transition", _AWS_SFN),
        Price("apigateway.rest.request", 3.50 / 1_000_000, "request (REST API, first 333 million)", _API_GATEWAY),
        # AI services
        Price(
            "rekognition.image",
            0.001,
            "image per API (group 2, first million a month)",
            _AWS_REKOGNITION,
            read="2026-10-07",
        ),
        Price("comprehend.unit", 0.0001, "100-character unit, 3 units minimum per request", _AWS_COMPREHEND),
        Price("lex.text_request", 0.00075, "text request (RecognizeText)", _LEX),
        # Messaging and data
        Price("eventbridge.event", 1.00 / 1_000_000, "custom event put (64 KB chunks)", _EVENTBRIDGE),
        Price("eventbridge.archive_gb", 0.10, "GB archived (processing)", _EVENTBRIDGE),
        Price("firehose.gb", 0.029, "GB ingested, each record rounded up to 5 KB", _FIREHOSE),
        Price("s3.put", 0.005 / 1_000, "PUT, COPY, POST or LIST request", _S3),
        Price("s3.get", 0.0004 / 1_000, "GET or HEAD request", _S3),
        Price("dynamodb.wru", 0.625 / 1_000_000, "write request unit (on-demand)", _DYNAMODB),
        Price("dynamodb.rru", 0.125 / 1_000_000, "read request unit (on-demand)", _DYNAMODB),
        Price("sns.publish", 0.50 / 1_000_000, "publish request (64 KB chunks)", _SNS),
        Price("sqs.request", 0.40 / 1_000_000, "standard queue request", _SQS),
        Price("secretsmanager.api_call", 0.05 / 10_000, "API call", _SECRETS, read="2026-09-20"),
        Price(
            "ssm.standard_parameter_read",
            0.0,
            "GetParameter on a standard parameter (standard throughput)",
            _SSM,
        ),
        Price("kms.request", 0.03 / 10_000, "symmetric key request", _KMS),
        Price("xray.trace", 5.00 / 1_000_000, "trace recorded", _XRAY),
        # Observability
        Price("logs.ingest_gb", 0.50, "GB ingested (standard log class; vended logs' first tier too)", _CLOUDWATCH),
        # Fixed monthly
        Price("kms.key_month", 1.00, "customer-managed key per month", _KMS),
        Price("cloudwatch.metric_month", 0.30, "custom metric per month (first 10,000)", _CLOUDWATCH),
        Price(
            "cloudwatch.dashboard_month",
            3.00,
            "dashboard per month (the first three in an account are free)",
            _CLOUDWATCH,
        ),
        Price("cloudwatch.alarm_month", 0.10, "standard-resolution alarm metric per month", _CLOUDWATCH),
        Price("secretsmanager.secret_month", 0.40, "secret per month", _SECRETS, read="2026-09-20"),
        # X API (outside the AWS total)
        Price(
            "x.post_read",
            0.005,
            "post read (pay-per-use; polling, or a delivered X Activity event)",
            "docs.x.com, Pricing (x-api/getting-started/pricing), as quoted in this README",
        ),
        Price(
            "x.user_read",
            0.010,
            "user read (pay-per-use), deduplicated within a UTC day",
            "docs.x.com, Pricing (x-api/getting-started/pricing), as quoted in this README",
        ),
        Price(
            "x.post_written",
            0.010,
            "reply to a post that mentioned the bot (pay-per-use)",
            "docs.x.com, Pricing, as quoted in this README (the 'summoned' reply)",
        ),
    )
}

#: Pounds per US dollar, for the per-million figures in GBP: the ECB's euro reference rates of one day
#: crossed (GBP per EUR / USD per EUR), so the figure is that day's, not today's; `read` is the rate's date.
GBP_PER_USD: Final = Price(
    "fx.gbp_per_usd",
    0.7347,
    "GBP per USD",
    "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml (stored copy, read 2026-12-03: "
    "Cube time='2026-05-08', USD 1.1761 and GBP 0.86410 per EUR; 0.86410 / 1.1761 = 0.7347)",
    read="2026-05-08",
    note="ECB reference rates of 8 May 2026, crossed; a rate of that day, not a live one",
)


@dataclass(frozen=True)
class Latency:
    """What one real call is taken to cost in wall-clock time, by the Lambda that waits for it."""

    service: str
    ms: float
    note: str


#: Stated, not measured: typical figures for calls inside one region. The AI services are the slow
#: ones (Rekognition reads the photo from S3 first); DynamoDB, S3, EventBridge, SNS and SQS answer
#: small requests in milliseconds.
LATENCY_MS: Final[dict[str, Latency]] = {
    latency.service: latency
    for latency in (
        Latency(
            "rekognition", 150.0, "AI call on a photo in S3 (stated: 50-150 ms per AI call, the top taken for photos)"
        ),
        Latency("comprehend", 50.0, "AI call on a short text (stated: 50-150 ms per AI call)"),
        Latency("lexv2-runtime", 100.0, "RecognizeText, our fulfilment Lambda's own time added apart"),
        Latency("dynamodb", 10.0, "stated: 10-20 ms per DynamoDB/S3/EventBridge call"),
        Latency("s3", 20.0, "stated: 10-20 ms per DynamoDB/S3/EventBridge call"),
        Latency("events", 15.0, "stated: 10-20 ms per DynamoDB/S3/EventBridge call"),
        Latency("sns", 15.0, "stated"),
        Latency("sqs", 15.0, "stated"),
        Latency("secretsmanager", 20.0, "stated"),
        Latency("ssm", 15.0, "stated"),
        Latency("x", 300.0, "the X API's reply (media upload not included): stated"),
        Latency("photo_download", 100.0, "downloading a photo from X's media host: stated"),
    )
}
DEFAULT_LATENCY_MS: Final = 20.0


def price(key: str) -> float:
    return PRICES[key].usd


def latency_seconds(service: str) -> float:
    latency = LATENCY_MS.get(service)
    return (latency.ms if latency else DEFAULT_LATENCY_MS) / 1000.0
