#!/usr/bin/env python3
"""The SigV4 signer (src/sigv4.c, through ./sigv4_sign) against botocore.

botocore, the AWS SDK's own signer (Debian's python3-botocore), signs the
same requests: header-signed ones with S3SigV4Auth and presigned URLs with
S3SigV4QueryAuth, for keys, parameters and header values chosen to hit
the encoding rules (spaces, slashes, '=', '&', '+', '~', UTF-8, empty
values, unsorted and same-prefix names), with and without a session
token (x-amz-security-token signed, or X-Amz-Security-Token in the
presigned query).  Every signature must agree.
Run by "make check" from the build's tests directory.
"""

import os
import random
import subprocess
import sys
import urllib.parse

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGN = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])),
                    'sigv4_sign')
if not os.access(SIGN, os.X_OK):
    SIGN = './sigv4_sign'
ALPHABET = 'abcXYZ019-._~ /=&+%é'
CASES = 200
TOKEN_ALPHABET = 'ABCxyz0189+/='



def rand_text(rng, n):
    return ''.join(rng.choice(ALPHABET) for _ in range(rng.randint(0, n)))


def botocore_sig(method, host, raw_path, params, headers, stamp, payload,
                 creds, region, presign):
    url = 'http://%s%s' % (host, raw_path)
    req = AWSRequest(method=method, url=url, headers=dict(headers),
                     params=dict(params))
    req.context['timestamp'] = stamp
    if presign:
        auth = S3SigV4QueryAuth(creds, 's3', region, expires=presign)
        req.params.update({
            'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
            'X-Amz-Credential': '%s/%s/%s/s3/aws4_request'
                                % (creds.access_key, stamp[:8], region),
            'X-Amz-Date': stamp, 'X-Amz-Expires': str(presign),
            'X-Amz-SignedHeaders': 'host'})
        # What botocore's add_auth puts in the query for a token.
        if creds.token:
            req.params['X-Amz-Security-Token'] = creds.token
    else:
        # headers carries x-amz-content-sha256, which botocore takes as
        # the payload's hash.
        auth = S3SigV4Auth(creds, 's3', region)
    canonical = auth.canonical_request(req)
    return auth.signature(auth.string_to_sign(req, canonical), req)


def main():
    rng = random.Random(int(os.environ.get('SIGV4_SEED', '4')))
    failures = 0
    for case in range(CASES):
        presign = rng.choice([0, 0, 300, 86400])
        ak = 'AK' + ''.join(rng.choice('ABCDEF0123') for _ in range(10))
        sk = ''.join(rng.choice('abcXYZ/+=09') for _ in range(30))
        region = rng.choice(['us-east-1', 'eu-west-3', 'auto'])
        stamp = '2026%02d%02dT%02d%02d%02dZ' % (
            rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
            rng.randint(0, 59), rng.randint(0, 59))
        host = rng.choice(['127.0.0.1:9000', 'bucket.s3.example.com'])
        key = rand_text(rng, 20).lstrip('/') or 'k'
        raw_path = '/' + urllib.parse.quote(key, safe='/~')
        method = rng.choice(['GET', 'PUT', 'POST', 'DELETE', 'HEAD'])
        names = ['prefix', 'uploads', 'partNumber', 'uploadId', 'list-type',
                 'continuation-token', 'max-keys', 'key-marker', 'a', 'A',
                 'prefix2']
        params = {}
        if not presign or rng.random() < 0.5:
            for name in rng.sample(names, rng.randint(0, 4)):
                params[name] = rand_text(rng, 12)
        payload = rng.choice([
            'UNSIGNED-PAYLOAD',
            'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'])
        if presign:
            payload = 'UNSIGNED-PAYLOAD'
            headers = {'host': host}
        else:
            headers = {'host': host, 'x-amz-date': stamp,
                       'x-amz-content-sha256': payload}
            if rng.random() < 0.5:
                headers['x-amz-copy-source'] = '/bucket/' + urllib.parse.quote(
                    key, safe='/~')
            if rng.random() < 0.3:
                headers['range'] = 'bytes=0-%d' % rng.randint(0, 99)
        token = None
        if rng.random() < 0.4:
            token = ''.join(rng.choice(TOKEN_ALPHABET)
                            for _ in range(rng.randint(16, 1200)))
            if not presign:
                # botocore's add_auth signs it as this header.
                headers['x-amz-security-token'] = token
        creds = Credentials(ak, sk, token)
        want = botocore_sig(method, host, raw_path, params, headers, stamp,
                            payload, creds, region, presign)
        args = [SIGN, method, raw_path, ak, sk, region, stamp, payload]
        if presign:
            args.append('presign=%d' % presign)
            if token:
                args.append('token=' + token)
        args += ['h:%s=%s' % kv for kv in headers.items()]
        args += ['q:%s=%s' % kv for kv in params.items()]
        out = subprocess.run(args, capture_output=True, text=True,
                             check=False)
        got = out.stdout.strip()
        got = got.split('X-Amz-Signature=')[-1] if presign else \
            got.split('Signature=')[-1]
        if out.returncode != 0 or got != want:
            failures += 1
            print('case %d differs: %r\n  botocore %s\n  ours     %s (%s)'
                  % (case, args[1:], want, got, out.stderr.strip()))
    print('%d of %d signatures agree with botocore' % (CASES - failures,
                                                          CASES))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
