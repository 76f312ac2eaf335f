#!/usr/bin/env python3
"""scripts/s3.py: a few S3 requests by botocore, for scripts/run and the
tests (what the service stores, seen from the store's side).

    s3.py mb BUCKET            create BUCKET (fine if it is ours already)
    s3.py rb BUCKET            empty BUCKET (objects, multipart uploads)
                               and delete it
    s3.py get KEY FILE         the object KEY into FILE (exit 1: no such key)
    s3.py put KEY FILE         FILE as the object KEY
    s3.py rm KEY               delete the object KEY
    s3.py ls [PREFIX]          the keys under PREFIX, one a line
    s3.py uploads [PREFIX]     the multipart uploads, "KEY UPLOAD-ID" a line
    s3.py left PREFIX          the keys under PREFIXtmp/ and PREFIXtrash/
                               and the multipart uploads under PREFIX

S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION (us-east-1)
and, but for mb and rb, S3_BUCKET from the environment; path-style URLs;
an https endpoint's certificate checked against S3_CA_FILE when set,
else the system's CAs.
"""

import os
import sys

import botocore.config
import botocore.exceptions
import botocore.session


def config():
    settings = dict(
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1},
        connect_timeout=5,
        read_timeout=60,
    )
    # Newer botocore adds CRC32 checksums to every upload, over https as
    # aws-chunked bodies with trailers, which Ceph RGW 16 refuses
    # (MissingContentLength): only where an operation requires them.
    try:
        return botocore.config.Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required", **settings)
    except TypeError:
        return botocore.config.Config(**settings)


def client():
    session = botocore.session.get_session()
    return session.create_client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT"],
        region_name=os.environ.get("S3_REGION", "us-east-1"),
        aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"],
        verify=os.environ.get("S3_CA_FILE") or True,
        config=config(),
    )


def pages(s3, op, key, **args):
    for page in s3.get_paginator(op).paginate(**args):
        yield from page.get(key, [])


def keys(s3, bucket, prefix=""):
    return [o["Key"] for o in pages(s3, "list_objects_v2", "Contents",
                                    Bucket=bucket, Prefix=prefix)]


def uploads(s3, bucket, prefix=""):
    return [(u["Key"], u["UploadId"])
            for u in pages(s3, "list_multipart_uploads", "Uploads",
                           Bucket=bucket, Prefix=prefix)]


def main(argv):
    if not argv:
        sys.exit(__doc__)
    s3 = client()
    cmd, args = argv[0], argv[1:]
    if cmd == "mb":
        try:
            s3.create_bucket(Bucket=args[0])
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
                raise
        return 0
    if cmd == "rb":
        for key, uid in uploads(s3, args[0]):
            s3.abort_multipart_upload(Bucket=args[0], Key=key, UploadId=uid)
        for key in keys(s3, args[0]):
            s3.delete_object(Bucket=args[0], Key=key)
        s3.delete_bucket(Bucket=args[0])
        return 0
    bucket = os.environ["S3_BUCKET"]
    if cmd == "get":
        try:
            body = s3.get_object(Bucket=bucket, Key=args[0])["Body"]
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] == "NoSuchKey":
                return 1
            raise
        with open(args[1], "wb") as f:
            for chunk in body.iter_chunks(1 << 20):
                f.write(chunk)
        return 0
    if cmd == "put":
        with open(args[1], "rb") as f:
            s3.put_object(Bucket=bucket, Key=args[0], Body=f)
        return 0
    if cmd == "rm":
        s3.delete_object(Bucket=bucket, Key=args[0])
        return 0
    if cmd == "ls":
        for key in keys(s3, bucket, args[0] if args else ""):
            print(key)
        return 0
    if cmd == "left":
        for key in (keys(s3, bucket, args[0] + "tmp/") +
                    keys(s3, bucket, args[0] + "trash/")):
            print(key)
        for key, uid in uploads(s3, bucket, args[0]):
            print(key, uid)
        return 0
    if cmd == "uploads":
        for key, uid in uploads(s3, bucket, args[0] if args else ""):
            print(key, uid)
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
