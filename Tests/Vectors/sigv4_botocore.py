#!/usr/bin/env python3
"""Signs requests with botocore's own SigV4Auth, the signer of AWS's Python SDK.

Reads JSON from stdin: {"requests": [{method, url, headers: [[name, value]],
body_base64, now (Unix seconds), access_key_id, secret_access_key,
session_token, region, service}]}. Prints {"signed": [{"authorization",
"x-amz-date", "x-amz-security-token"}]} in the same order, botocore's clock
pinned to each request's `now`. Usage: sigv4_botocore.py < requests.json
"""
import base64
import datetime
import json
import sys
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    signed = []
    for item in json.load(sys.stdin)["requests"]:
        request = AWSRequest(method=item["method"], url=item["url"], data=base64.b64decode(item["body_base64"]),
                             headers=dict(item["headers"]))
        credentials = Credentials(item["access_key_id"], item["secret_access_key"], item["session_token"] or None)
        now = datetime.datetime.fromtimestamp(item["now"], tz=datetime.timezone.utc).replace(tzinfo=None)
        with mock.patch("botocore.auth.get_current_datetime", return_value=now):
            SigV4Auth(credentials, item["service"], item["region"]).add_auth(request)
        signed.append({"authorization": request.headers["Authorization"], "x-amz-date": request.headers["X-Amz-Date"],
                       "x-amz-security-token": request.headers.get("X-Amz-Security-Token", "")})
    json.dump({"signed": signed}, sys.stdout)


main()
