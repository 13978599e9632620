"""A real S3 API over HTTP for the tests: moto's server mode (never its in-process mock decorators).

The server runs in a thread of the test process, on a free port. `stop()` closes the port (the
bucket becomes unreachable for the services and workers, which are other processes); `start()`
opens it again on the same port with the same buckets and objects (moto keeps them in memory here).
"""

from __future__ import annotations

import boto3
import httpx
from botocore.config import Config
from moto.server import ThreadedMotoServer

from tests.servers import free_port, wait_until

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "us-east-1"


class MotoS3Server:
    def __init__(self) -> None:
        self.port = free_port()
        self._server: ThreadedMotoServer | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoS3Server:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        wait_until(self._answers, timeout=30, what="moto S3 server")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.endpoint}/moto-api/", timeout=2).status_code < 500
        except httpx.TransportError:
            return False

    def client(self):
        """A plain boto3 client of our own, to look at the bucket from outside the system."""
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY, config=Config(s3={"addressing_style": "path"}),
        )

    def env(self, bucket: str, prefix: str = "") -> dict[str, str]:
        """The settings that point a Stack (or Settings) at `bucket` on this server."""
        return {
            "STORAGE_URL": f"s3://{bucket}/{prefix}".rstrip("/"),
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def unfinished_uploads(self, bucket: str) -> list[str]:
        return [u["Key"] for u in self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
