#!/usr/bin/env python3
"""tests/bench/s3_direct.py: the object store's own speed, botocore only
(fig_s3.sh's "direct" side).

    s3_direct.py put KEY FILE PART_SIZE [-j JOBS]
        FILE as a multipart upload to KEY: CreateMultipartUpload, one
        UploadPart of PART_SIZE bytes after the other (the service's way;
        -j JOBS > 1 sends JOBS parts at once from threads: botocore's
        client is thread-safe, which is how s3transfer goes parallel),
        CompleteMultipartUpload
    s3_direct.py get KEY
        GetObject of KEY, streamed to nowhere in 1 MiB reads
    s3_direct.py rm KEY

Prints "bytes seconds" for put and get (the request(s) alone, from the
first to the last byte; the client is made before the clock starts).
S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION (us-east-1)
and S3_BUCKET from the environment; path-style URLs.

Over http botocore signs each part's SHA-256 (x-amz-content-sha256), as
the service does; its newer default CRC32 checksums are asked only where
an operation requires them, since the service sends none either.
"""

import concurrent.futures
import os
import sys
import time

import botocore.config
import botocore.session


def client(jobs):
    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT"],
        region_name=os.environ.get("S3_REGION", "us-east-1"),
        aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            max_pool_connections=max(jobs, 1),
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=5,
            read_timeout=300,
        ),
    )


def put(s3, bucket, key, path, part_size, jobs):
    size = os.path.getsize(path)
    nparts = max(1, -(-size // part_size))

    def send(n):
        with open(path, "rb") as f:
            f.seek((n - 1) * part_size)
            body = f.read(part_size)
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid,
                           PartNumber=n, Body=body)
        return {"PartNumber": n, "ETag": r["ETag"]}

    t0 = time.monotonic()
    uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    try:
        if jobs > 1:
            with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
                parts = list(pool.map(send, range(1, nparts + 1)))
        else:
            parts = [send(n) for n in range(1, nparts + 1)]
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                     MultipartUpload={"Parts": parts})
    except BaseException:
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=uid)
        raise
    return size, time.monotonic() - t0


def get(s3, bucket, key):
    n = 0
    t0 = time.monotonic()
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in body.iter_chunks(1 << 20):
        n += len(chunk)
    return n, time.monotonic() - t0


def main(argv):
    jobs = 1
    if "-j" in argv:
        i = argv.index("-j")
        jobs = int(argv[i + 1])
        del argv[i:i + 2]
    if len(argv) < 2:
        sys.exit(__doc__)
    s3 = client(jobs)
    bucket = os.environ["S3_BUCKET"]
    cmd, key = argv[0], argv[1]
    if cmd == "put" and len(argv) == 4:
        size, secs = put(s3, bucket, key, argv[2], int(argv[3]), jobs)
    elif cmd == "get" and len(argv) == 2:
        size, secs = get(s3, bucket, key)
    elif cmd == "rm" and len(argv) == 2:
        s3.delete_object(Bucket=bucket, Key=key)
        return 0
    else:
        sys.exit(__doc__)
    print(size, f"{secs:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
