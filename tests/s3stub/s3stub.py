#!/usr/bin/env python3
"""A small S3 API server for the tests (STORAGE=s3), strict where it matters.

It serves one bucket from a directory, on 127.0.0.1 only, and implements
the calls the service makes: HeadBucket, ListObjectsV2,
ListMultipartUploads, Put/Get/Head/Delete/CopyObject (GET with one Range),
Create/Complete/AbortMultipartUpload, UploadPart, UploadPartCopy and
ListParts.

Unlike a lenient stand-in it refuses what real S3 refuses:
  - a request whose SigV4 signature (Authorization header or presigned
    query string) botocore does not compute alike: 403;
  - a body whose SHA-256 differs from x-amz-content-sha256: 400;
  - a multipart upload completed with a part under 5 MiB but the last: 400.

For the tests it also
  - logs every request as one JSON line to ROOT/requests.log (operation,
    key, status, body size, signature kind, milliseconds taken), so that
    they can assert the parts sent and the uploads aborted;
  - fails requests on demand: each line "OPERATION FAULT [CODE]" of
    ROOT/faults acts on the next request of that operation (OPERATION *:
    of any), then the line is removed.  FAULT is a status to answer, with
    the error code CODE (default InjectedFault), the operation not done;
    "drop": the connection closed with no answer, the operation not done;
    "lost": the operation done, then the connection closed with no answer
    (an answer lost on its way back).
  - with --session-token (or S3STUB_SESSION_TOKEN in its environment),
    takes requests of temporary credentials only: the token signed as
    x-amz-security-token, or X-Amz-Security-Token in a presigned URL;
    otherwise 403 InvalidToken.  Without it, a request carrying a token
    is refused alike.

It answers path-style requests ("/bucket/key") and virtual-hosted ones
(Host "bucket.anything", path "/key"), and with --tls CERT KEY speaks
HTTPS only, with that certificate chain and key (PEM).

usage: s3stub.py --root DIR --bucket NAME --port-file FILE
                 [--access-key K --secret-key S --region R]
                 [--tls CERT KEY] [--session-token T]
"""

import argparse
import base64
import datetime
import hashlib
import html
import json
import os
import re
import shutil
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

MIN_PART = 5 * 1024 * 1024
LOCK = threading.Lock()
ARGS = None
CREDS = None


def now_iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc) \
        .strftime('%Y-%m-%dT%H:%M:%S.000Z')


def xml(tag, body):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<%s>%s</%s>'
            % (tag, body, tag)).encode()


def el(tag, value):
    return '<%s>%s</%s>' % (tag, html.escape(str(value), quote=False), tag)


class S3Error(Exception):
    def __init__(self, status, code, message=''):
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


def obj_path(key):
    if not key or key.startswith('/') or '..' in key.split('/') or \
            '\0' in key or len(key) > 1024:
        raise S3Error(400, 'InvalidArgument', 'bad key')
    return os.path.join(ARGS.root, 'objects', key)


def upload_dir(upload_id):
    if not re.fullmatch(r'[0-9a-f]{32}', upload_id or ''):
        raise S3Error(404, 'NoSuchUpload')
    d = os.path.join(ARGS.root, 'uploads', upload_id)
    if not os.path.isdir(d):
        raise S3Error(404, 'NoSuchUpload')
    return d


def write_atomic(path, data_iter):
    """Writes chunks to path through a temp file; returns (size, md5)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = '%s.tmp-%s' % (path, uuid.uuid4().hex)
    md5 = hashlib.md5()
    size = 0
    with open(tmp, 'wb') as f:
        for chunk in data_iter:
            md5.update(chunk)
            size += len(chunk)
            f.write(chunk)
    os.replace(tmp, path)
    return size, md5


def file_chunks(path, start=0, length=None):
    with open(path, 'rb') as f:
        f.seek(start)
        left = os.path.getsize(path) - start if length is None else length
        while left > 0:
            b = f.read(min(left, 1 << 20))
            if not b:
                break
            left -= len(b)
            yield b


def take_fault(op):
    path = os.path.join(ARGS.root, 'faults')
    with LOCK:
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return None
        for i, line in enumerate(lines):
            parts = line.split()
            if len(parts) in (2, 3) and parts[0] in (op, '*'):
                del lines[i]
                with open(path, 'w') as f:
                    f.write(''.join(l + '\n' for l in lines))
                return parts[1], parts[2] if len(parts) == 3 \
                    else 'InjectedFault'
    return None


class Dropped(Exception):
    """The connection is to be closed with no answer."""


def check_token(given, signed):
    """The session token as --session-token wants it, signed."""
    if ARGS.session_token is None and given is None:
        return
    if given != ARGS.session_token:
        raise S3Error(403, 'InvalidToken', 'session token')
    if not signed:
        raise S3Error(403, 'AccessDenied', 'x-amz-security-token not signed')


def signed_request(method, host, raw_path, params, headers):
    url = 'http://%s%s' % (host, raw_path)
    req = AWSRequest(method=method, url=url, headers=headers,
                     params=dict(params))
    return req


def verify(method, raw_path, query, headers, body_sha):
    """Checks the SigV4 signature as botocore computes it; returns kind."""
    params = urllib.parse.parse_qsl(query, keep_blank_values=True)
    host = headers.get('host', '')
    if 'X-Amz-Signature' in dict(params):
        q = dict(params)
        if q.get('X-Amz-Algorithm') != 'AWS4-HMAC-SHA256':
            raise S3Error(400, 'AuthorizationQueryParametersError')
        cred = q['X-Amz-Credential'].split('/')
        if cred[0] != ARGS.access_key:
            raise S3Error(403, 'InvalidAccessKeyId')
        signed = q['X-Amz-SignedHeaders'].split(';')
        stamp = q['X-Amz-Date']
        t = datetime.datetime.strptime(stamp, '%Y%m%dT%H%M%SZ').replace(
            tzinfo=datetime.timezone.utc).timestamp()
        if time.time() > t + int(q['X-Amz-Expires']):
            raise S3Error(403, 'AccessDenied', 'Request has expired')
        check_token(q.get('X-Amz-Security-Token'), True)
        rest = [(k, v) for k, v in params if k != 'X-Amz-Signature']
        req = signed_request(method, host, raw_path, rest,
                             {h: headers.get(h, '') for h in signed})
        req.context['timestamp'] = stamp
        auth = S3SigV4QueryAuth(CREDS, 's3', ARGS.region,
                                expires=int(q['X-Amz-Expires']))
        got = q['X-Amz-Signature']
        kind = 'presigned'
    else:
        a = headers.get('authorization', '')
        m = re.fullmatch(r'AWS4-HMAC-SHA256 Credential=([^,]+), '
                         r'SignedHeaders=([^,]+), Signature=([0-9a-f]{64})', a)
        if not m:
            raise S3Error(403, 'AccessDenied', 'no SigV4 Authorization')
        cred = m.group(1).split('/')
        if cred[0] != ARGS.access_key:
            raise S3Error(403, 'InvalidAccessKeyId')
        signed = m.group(2).split(';')
        for h in ('host', 'x-amz-date', 'x-amz-content-sha256'):
            if h not in signed:
                raise S3Error(403, 'AccessDenied', h + ' not signed')
        check_token(headers.get('x-amz-security-token'),
                    'x-amz-security-token' in signed)
        stamp = headers['x-amz-date']
        req = signed_request(method, host, raw_path, params,
                             {h: headers.get(h, '') for h in signed})
        req.context['timestamp'] = stamp
        auth = S3SigV4Auth(CREDS, 's3', ARGS.region)
        got = m.group(3)
        kind = 'header'
        claimed = headers.get('x-amz-content-sha256', '')
        if claimed != 'UNSIGNED-PAYLOAD' and claimed != body_sha:
            raise S3Error(400, 'XAmzContentSHA256Mismatch')
    if cred[1:] != [stamp[:8], ARGS.region, 's3', 'aws4_request']:
        raise S3Error(403, 'AuthorizationHeaderMalformed')
    canonical = auth.canonical_request(req)
    sts = auth.string_to_sign(req, canonical)
    if auth.signature(sts, req) != got:
        raise S3Error(403, 'SignatureDoesNotMatch')
    return kind


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 's3stub'

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        # TLS: the handshake in the request's thread, not the server's.
        if ARGS.tls:
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError) as e:
                print('s3stub: TLS handshake failed: %s' % e,
                      file=sys.stderr, flush=True)
                raise
        super().setup()

    def answer(self, status, body=b'', headers=None, send_body=True):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if 'Content-Length' not in (headers or {}):
            self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if send_body and self.command != 'HEAD':
            if isinstance(body, (bytes, bytearray)):
                self.wfile.write(body)
            else:
                for chunk in body:
                    self.wfile.write(chunk)
        self.status = status

    def handle_any(self):
        self.status = 0
        started = time.monotonic()
        split = urllib.parse.urlsplit(self.path)
        raw_path, query = split.path, split.query
        q = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = urllib.parse.unquote(raw_path)
        if headers.get('host', '').startswith(ARGS.bucket + '.'):
            bucket, key = ARGS.bucket, path.lstrip('/')
        else:
            parts = path.lstrip('/').split('/', 1)
            bucket, key = parts[0], (parts[1] if len(parts) > 1 else '')
        op = self.operation(key, q, headers)
        entry = {'op': op, 'key': key, 'size': len(body),
                 'method': self.command}
        try:
            entry['auth'] = verify(self.command, raw_path, query, headers,
                                   hashlib.sha256(body).hexdigest())
            if bucket != ARGS.bucket:
                raise S3Error(404, 'NoSuchBucket')
            fault = take_fault(op)
            entry['fault'] = fault[0] if fault else None
            if fault is not None and fault[0] == 'drop':
                raise Dropped()
            if fault is not None and fault[0] != 'lost':
                raise S3Error(int(fault[0]), fault[1])
            if fault is not None:
                # Done, but the answer goes nowhere.
                out, self.wfile = self.wfile, open(os.devnull, 'wb')
                try:
                    getattr(self, 'op_' + op)(key, q, headers, body)
                finally:
                    self.wfile.close()
                    self.wfile = out
                raise Dropped()
            getattr(self, 'op_' + op)(key, q, headers, body)
        except Dropped:
            self.status = 0
            self.close_connection = True
        except S3Error as e:
            self.answer(e.status, xml('Error', el('Code', e.code) +
                                      el('Message', e.message)),
                        {'Content-Type': 'application/xml'})
        except BrokenPipeError:
            pass
        entry['status'] = self.status
        entry['ms'] = round((time.monotonic() - started) * 1000, 1)
        with LOCK:
            with open(os.path.join(ARGS.root, 'requests.log'), 'a') as f:
                f.write(json.dumps(entry) + '\n')

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    def operation(self, key, q, headers):
        m = self.command
        if not key:
            if m == 'HEAD':
                return 'HeadBucket'
            if m == 'GET' and 'uploads' in q:
                return 'ListMultipartUploads'
            if m == 'GET' and q.get('list-type') == '2':
                return 'ListObjectsV2'
            return 'Unsupported'
        if m == 'PUT' and 'uploadId' in q:
            return 'UploadPartCopy' if 'x-amz-copy-source' in headers \
                else 'UploadPart'
        if m == 'PUT':
            return 'CopyObject' if 'x-amz-copy-source' in headers \
                else 'PutObject'
        if m == 'POST' and 'uploads' in q:
            return 'CreateMultipartUpload'
        if m == 'POST' and 'uploadId' in q:
            return 'CompleteMultipartUpload'
        if m == 'DELETE' and 'uploadId' in q:
            return 'AbortMultipartUpload'
        if m == 'GET' and 'uploadId' in q:
            return 'ListParts'
        return {'GET': 'GetObject', 'HEAD': 'HeadObject',
                'DELETE': 'DeleteObject'}.get(m, 'Unsupported')

    def op_Unsupported(self, key, q, headers, body):
        raise S3Error(501, 'NotImplemented')

    def op_HeadBucket(self, key, q, headers, body):
        self.answer(200)

    def op_PutObject(self, key, q, headers, body):
        _, md5 = write_atomic(obj_path(key), [body])
        self.answer(200, headers={'ETag': '"%s"' % md5.hexdigest()})

    def copy_source(self, headers):
        src = urllib.parse.unquote(headers['x-amz-copy-source']).lstrip('/')
        b, _, k = src.partition('/')
        if b != ARGS.bucket:
            raise S3Error(404, 'NoSuchBucket')
        p = obj_path(k)
        if not os.path.isfile(p):
            raise S3Error(404, 'NoSuchKey')
        return p

    def op_CopyObject(self, key, q, headers, body):
        src = self.copy_source(headers)
        if os.path.getsize(src) > 5 * 1024 ** 3:
            raise S3Error(400, 'InvalidRequest', 'copy source too large')
        _, md5 = write_atomic(obj_path(key), file_chunks(src))
        self.answer(200, xml('CopyObjectResult', el(
            'ETag', '"%s"' % md5.hexdigest())),
            {'Content-Type': 'application/xml'})

    def byte_range(self, header, size):
        m = re.fullmatch(r'bytes=(\d*)-(\d*)', header or '')
        if not m or (m.group(1) == '' and m.group(2) == ''):
            return None
        if m.group(1) == '':
            n = int(m.group(2))
            return (max(0, size - n), size - 1) if n > 0 else 'bad'
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else size - 1
        if a >= size or b < a:
            return 'bad'
        return a, min(b, size - 1)

    def op_GetObject(self, key, q, headers, body):
        p = obj_path(key)
        if not os.path.isfile(p):
            raise S3Error(404, 'NoSuchKey')
        size = os.path.getsize(p)
        r = self.byte_range(headers.get('range'), size)
        h = {'Content-Type': 'binary/octet-stream', 'Accept-Ranges': 'bytes',
             'ETag': '"stub"', 'Last-Modified': self.date_time_string(
                 os.path.getmtime(p))}
        if r == 'bad':
            h['Content-Range'] = 'bytes */%d' % size
            raise S3Error(416, 'InvalidRange')
        if r is None:
            h['Content-Length'] = str(size)
            self.answer(200, file_chunks(p), h)
            return
        h['Content-Range'] = 'bytes %d-%d/%d' % (r[0], r[1], size)
        h['Content-Length'] = str(r[1] - r[0] + 1)
        self.answer(206, file_chunks(p, r[0], r[1] - r[0] + 1), h)

    def op_HeadObject(self, key, q, headers, body):
        p = obj_path(key)
        if not os.path.isfile(p):
            self.answer(404)
            return
        self.answer(200, headers={
            'Content-Length': str(os.path.getsize(p)), 'ETag': '"stub"',
            'Last-Modified': self.date_time_string(os.path.getmtime(p))})

    def op_DeleteObject(self, key, q, headers, body):
        try:
            os.unlink(obj_path(key))
        except FileNotFoundError:
            pass
        self.answer(204)

    def op_CreateMultipartUpload(self, key, q, headers, body):
        obj_path(key)
        upload_id = uuid.uuid4().hex
        d = os.path.join(ARGS.root, 'uploads', upload_id)
        os.makedirs(d)
        with open(os.path.join(d, 'meta.json'), 'w') as f:
            json.dump({'key': key, 'initiated': time.time()}, f)
        self.answer(200, xml('InitiateMultipartUploadResult',
                             el('Bucket', ARGS.bucket) + el('Key', key) +
                             el('UploadId', upload_id)),
                    {'Content-Type': 'application/xml'})

    def part_number(self, q):
        n = int(q.get('partNumber', '0'))
        if not 1 <= n <= 10000:
            raise S3Error(400, 'InvalidArgument', 'partNumber')
        return n

    def op_UploadPart(self, key, q, headers, body):
        d = upload_dir(q.get('uploadId'))
        n = self.part_number(q)
        _, md5 = write_atomic(os.path.join(d, 'part-%05d' % n), [body])
        self.answer(200, headers={'ETag': '"%s"' % md5.hexdigest()})

    def op_UploadPartCopy(self, key, q, headers, body):
        d = upload_dir(q.get('uploadId'))
        n = self.part_number(q)
        src = self.copy_source(headers)
        r = self.byte_range(headers.get('x-amz-copy-source-range'),
                            os.path.getsize(src))
        if r is None or r == 'bad':
            raise S3Error(400, 'InvalidArgument', 'copy range')
        _, md5 = write_atomic(os.path.join(d, 'part-%05d' % n),
                              file_chunks(src, r[0], r[1] - r[0] + 1))
        self.answer(200, xml('CopyPartResult',
                             el('ETag', '"%s"' % md5.hexdigest())),
                    {'Content-Type': 'application/xml'})

    def op_CompleteMultipartUpload(self, key, q, headers, body):
        d = upload_dir(q.get('uploadId'))
        text = body.decode()
        listed = re.findall(r'<Part><PartNumber>(\d+)</PartNumber>'
                            r'<ETag>([^<]*)</ETag></Part>', text)
        if not listed:
            raise S3Error(400, 'MalformedXML')
        files = []
        for i, (n, etag) in enumerate(listed):
            p = os.path.join(d, 'part-%05d' % int(n))
            if int(n) != i + 1 or not os.path.isfile(p):
                raise S3Error(400, 'InvalidPart')
            md5 = hashlib.md5()
            for c in file_chunks(p):
                md5.update(c)
            if html.unescape(etag) != '"%s"' % md5.hexdigest():
                raise S3Error(400, 'InvalidPart', 'ETag')
            if i < len(listed) - 1 and os.path.getsize(p) < MIN_PART:
                raise S3Error(400, 'EntityTooSmall')
            files.append(p)

        def chunks():
            for p in files:
                yield from file_chunks(p)
        write_atomic(obj_path(key), chunks())
        shutil.rmtree(d, ignore_errors=True)
        self.answer(200, xml('CompleteMultipartUploadResult',
                             el('Bucket', ARGS.bucket) + el('Key', key) +
                             el('ETag', '"multipart-%d"' % len(files))),
                    {'Content-Type': 'application/xml'})

    def op_AbortMultipartUpload(self, key, q, headers, body):
        shutil.rmtree(upload_dir(q.get('uploadId')), ignore_errors=True)
        self.answer(204)

    def op_ListParts(self, key, q, headers, body):
        d = upload_dir(q.get('uploadId'))
        marker = int(q.get('part-number-marker') or 0)
        nums = sorted(int(n[5:]) for n in os.listdir(d)
                      if re.fullmatch(r'part-\d{5}', n))
        nums = [n for n in nums if n > marker]
        # Two parts a page, so that the client's paging is exercised.
        page, more = nums[:2], len(nums) > 2
        out = el('Bucket', ARGS.bucket) + el('Key', key) + \
            el('UploadId', q.get('uploadId')) + \
            el('IsTruncated', 'true' if more else 'false')
        if more:
            out += el('NextPartNumberMarker', page[-1])
        for n in page:
            p = os.path.join(d, 'part-%05d' % n)
            md5 = hashlib.md5()
            for c in file_chunks(p):
                md5.update(c)
            out += '<Part>%s%s%s%s</Part>' % (
                el('PartNumber', n), el('LastModified', now_iso(
                    os.path.getmtime(p))),
                el('ETag', '"%s"' % md5.hexdigest()),
                el('Size', os.path.getsize(p)))
        self.answer(200, xml('ListPartsResult', out),
                    {'Content-Type': 'application/xml'})

    def op_ListMultipartUploads(self, key, q, headers, body):
        prefix = q.get('prefix', '')
        base = os.path.join(ARGS.root, 'uploads')
        out = []
        for upload_id in sorted(os.listdir(base)):
            try:
                with open(os.path.join(base, upload_id, 'meta.json')) as f:
                    meta = json.load(f)
            except (FileNotFoundError, ValueError):
                continue
            if meta['key'].startswith(prefix):
                out.append((meta['key'], upload_id, meta['initiated']))
        out.sort()
        # One upload a page, so that the client's paging is exercised.
        marker = (q.get('key-marker', ''), q.get('upload-id-marker', ''))
        out = [u for u in out if (u[0], u[1]) > marker]
        page, more = out[:1], len(out) > 1
        body = el('Bucket', ARGS.bucket) + el('IsTruncated',
                                               'true' if more else 'false')
        if more:
            body += el('NextKeyMarker', page[-1][0]) + \
                el('NextUploadIdMarker', page[-1][1])
        for k, u, t in page:
            body += '<Upload>%s%s%s</Upload>' % (
                el('Key', k), el('UploadId', u), el('Initiated', now_iso(t)))
        self.answer(200, xml('ListMultipartUploadsResult', body),
                    {'Content-Type': 'application/xml'})

    def op_ListObjectsV2(self, key, q, headers, body):
        prefix = q.get('prefix', '')
        base = os.path.join(ARGS.root, 'objects')
        keys = []
        for dirpath, _, names in os.walk(base):
            for n in names:
                if '.tmp-' in n:
                    continue
                k = os.path.relpath(os.path.join(dirpath, n), base)
                if k.startswith(prefix):
                    keys.append(k)
        keys.sort()
        start = q.get('continuation-token', '')
        if start:
            start = base64.urlsafe_b64decode(start.encode()).decode()
            keys = [k for k in keys if k > start]
        limit = min(int(q.get('max-keys', '1000')), 2)  # small pages
        page, more = keys[:limit], len(keys) > limit
        body = el('Name', ARGS.bucket) + el('Prefix', prefix) + \
            el('KeyCount', len(page)) + \
            el('IsTruncated', 'true' if more else 'false')
        if more:
            body += el('NextContinuationToken', base64.urlsafe_b64encode(
                page[-1].encode()).decode())
        for k in page:
            p = os.path.join(base, k)
            body += '<Contents>%s%s%s</Contents>' % (
                el('Key', k), el('LastModified', now_iso(os.path.getmtime(p))),
                el('Size', os.path.getsize(p)))
        self.answer(200, xml('ListBucketResult', body),
                    {'Content-Type': 'application/xml'})


def main():
    global ARGS, CREDS
    p = argparse.ArgumentParser()
    p.add_argument('--root', required=True)
    p.add_argument('--bucket', required=True)
    p.add_argument('--port-file', required=True)
    p.add_argument('--port', type=int, default=0)
    p.add_argument('--address', default='127.0.0.1',
                   help='a loopback or private (10/8) address to listen on')
    p.add_argument('--access-key', default='fileupload-test')
    p.add_argument('--secret-key', default='fileupload-test-secret')
    p.add_argument('--region', default='us-east-1')
    p.add_argument('--tls', nargs=2, metavar=('CERT', 'KEY'),
                   help='HTTPS with this certificate chain and key (PEM)')
    p.add_argument('--session-token',
                   default=os.environ.get('S3STUB_SESSION_TOKEN') or None)
    ARGS = p.parse_args()
    CREDS = Credentials(ARGS.access_key, ARGS.secret_key,
                        ARGS.session_token)
    for d in ('objects', 'uploads'):
        os.makedirs(os.path.join(ARGS.root, d), exist_ok=True)
    if not (ARGS.address.startswith('127.') or ARGS.address.startswith('10.')):
        sys.exit('s3stub: listens on loopback or a private 10/8 address only')
    server = ThreadingHTTPServer((ARGS.address, ARGS.port), Handler)
    server.daemon_threads = True
    if ARGS.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.tls[0], ARGS.tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    tmp = ARGS.port_file + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % server.server_address[1])
    os.replace(tmp, ARGS.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
