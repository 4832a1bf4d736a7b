"""S3 targets: URL parsing, configuration from the environment, and error messages."""

from __future__ import annotations

import pytest

from events.errors import UserInputError
from projections.s3_target import S3Config, S3Target, is_s3_url

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def test_parse_splits_bucket_and_key() -> None:
    """`s3://bucket/a/b/name.parquet` is bucket `bucket`, key `a/b/name.parquet`."""
    target = S3Target.parse("s3://my-bucket.logs/a/b/name.parquet")
    assert (target.bucket, target.key) == ("my-bucket.logs", "a/b/name.parquet")
    assert target.url == "s3://my-bucket.logs/a/b/name.parquet"
    assert target.path == "my-bucket.logs/a/b/name.parquet"
    assert is_s3_url("S3://x/y")
    assert not is_s3_url("/tmp/s3://x")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/tmp/x.csv", "not an S3 URL: '/tmp/x.csv'"),
        ("s3://Bad_Bucket/x.csv", "not a valid S3 bucket name: 'Bad_Bucket'"),
        ("s3://ab/x.csv", "not a valid S3 bucket name: 'ab'"),
        ("s3://bucket", "'s3://bucket' names no object"),
        ("s3://bucket/prefix/", "'s3://bucket/prefix/' names no object"),
        ("s3://bucket/a//b", "'s3://bucket/a//b' names no object"),
    ],
)
def test_parse_refuses_what_names_no_object(url: str, message: str) -> None:
    """A bad URL is a user mistake with a hint, before anything is exported."""
    with pytest.raises(UserInputError) as caught:
        S3Target.parse(url)
    assert caught.value.message == message
    assert caught.value.hint


def test_staging_key_is_hidden_beside_the_target_and_fresh() -> None:
    """The upload goes to `.name.<hex>.uploading` in the same prefix, new each time."""
    target = S3Target.parse("s3://bucket/p/q/events.parquet")
    one, two = target.staging(), target.staging()
    assert one.bucket == "bucket"
    assert one.key.startswith("p/q/.events.parquet.")
    assert one.key.endswith(".uploading")
    assert one != two
    assert S3Target("bucket", "top.csv").staging().key.startswith(".top.csv.")


def test_config_reads_the_aws_variables_and_the_endpoint_precedence() -> None:
    """Keys, token and region come from AWS_*; SYNAPSE_S3_ENDPOINT wins over AWS_ENDPOINT_URL."""
    env = {
        "AWS_ACCESS_KEY_ID": "AKIA1",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": "tok",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": "http://aws-endpoint:9000",
        "SYNAPSE_S3_ENDPOINT": "http://127.0.0.1:9000",
    }
    config = S3Config.from_environ(env)
    assert config == S3Config(
        endpoint="http://127.0.0.1:9000",
        region="eu-west-1",
        access_key="AKIA1",
        secret_key=SECRET,
        session_token="tok",
    )
    assert S3Config.from_environ({**env, "SYNAPSE_S3_ENDPOINT": ""}).endpoint == (
        "http://aws-endpoint:9000"
    )
    assert S3Config.from_environ({"AWS_REGION": "us-west-2", **env}).region == "us-west-2"
    assert SECRET not in repr(config)
    assert "tok" not in repr(config)


def test_config_without_both_keys_leaves_credentials_to_pyarrow() -> None:
    """A key id alone (e.g. with AWS_PROFILE) is not half-used: pyarrow's chain decides."""
    config = S3Config.from_environ({"AWS_ACCESS_KEY_ID": "AKIA1", "AWS_PROFILE": "work"})
    assert (config.access_key, config.secret_key, config.session_token) == (None, None, None)
    assert config.where == "AWS S3 (default region)"


def _aws(code: str, op: str = "CreateMultipartUpload", text: str = "went wrong") -> OSError:
    return OSError(
        f"When initiating multiple part upload for key 'k' in bucket 'b': AWS Error {code} "
        f"during {op} operation: {text} (Request ID: ABC)"
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("NO_SUCH_BUCKET", "bucket 'b' does not exist at http://s3.local:9000"),
        ("INVALID_ACCESS_KEY_ID", "S3 refused the credentials (InvalidAccessKeyId)"),
        ("SIGNATURE_DOES_NOT_MATCH", "S3 refused the credentials (SignatureDoesNotMatch)"),
        ("EXPIRED_TOKEN", "S3 refused the credentials (ExpiredToken)"),
        ("ACCESS_DENIED", "S3 denied access to s3://b/k.csv (AccessDenied)"),
        ("NETWORK_CONNECTION", "could not reach S3 at http://s3.local:9000"),
        (
            "SLOW_DOWN",
            "upload to s3://b/k.csv failed: SlowDown during CreateMultipartUpload: went wrong",
        ),
    ],
)
def test_explain_turns_aws_errors_into_one_line(code: str, message: str) -> None:
    """Each S3 error class reads as one line a user can act on."""
    config = S3Config(endpoint="http://s3.local:9000", access_key="AK", secret_key=SECRET)
    error = config.explain(_aws(code), S3Target("b", "k.csv"))
    assert error.message == message


def test_explain_never_repeats_a_secret() -> None:
    """Should the storage ever echo the secret key or token, the message masks it."""
    config = S3Config(access_key="AK", secret_key=SECRET, session_token="sess-tok")
    error = config.explain(
        OSError(f"boom {SECRET} and sess-tok"), S3Target.parse("s3://bucket/k.csv")
    )
    assert SECRET not in error.message
    assert "sess-tok" not in error.message
    assert error.message == "upload to s3://bucket/k.csv failed: boom *** and ***"
