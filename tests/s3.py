"""A real S3 API for the object-storage tests: moto's server mode in a subprocess on a free
loopback port (one per xdist worker), and what the tests ask of the bucket with boto3."""

import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3

from tests.live.server import free_port

REGION = "us-east-1"
# moto accepts any credentials; set so that boto3 never looks further (instance metadata).
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "mesochart-test", "AWS_SECRET_ACCESS_KEY": "mesochart-test"}


@dataclass
class S3Server:
    process: subprocess.Popen
    endpoint: str

    @classmethod
    def start(cls, log: Path) -> "S3Server":
        port = free_port()
        with log.open("w") as out:
            process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = cls(process, f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 30
        while not server.answers():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"moto's S3 server did not start; see {log}")
            time.sleep(0.1)
        return server

    def answers(self) -> bool:
        try:
            urllib.request.urlopen(self.endpoint + "/moto-api/", timeout=1)  # noqa: S310
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False
        return True

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def empty_bucket(self, name: str) -> "Bucket":
        """The bucket, created if new, with nothing in it."""
        s3 = self.client()
        if name not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=name)
        bucket = Bucket(self, name)
        for key in bucket.object_keys():
            s3.delete_object(Bucket=name, Key=key)
        return bucket


@dataclass
class Bucket:
    server: S3Server
    name: str

    @property
    def env(self) -> dict[str, str]:
        """The variables that put an app server's media in this bucket."""
        return {
            "MEDIA_STORAGE": "s3",
            "MEDIA_S3_BUCKET": self.name,
            "MEDIA_S3_ENDPOINT_URL": self.server.endpoint,
            "MEDIA_S3_REGION": REGION,
            **CREDENTIALS,
        }

    def object_keys(self) -> list[str]:
        pages = self.server.client().get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.server.client().get_object(Bucket=self.name, Key=key)["Body"].read()

    def encryption(self, key: str) -> str | None:
        return (
            self.server.client().head_object(Bucket=self.name, Key=key).get("ServerSideEncryption")
        )

    def anonymous_status(self, key: str) -> int:
        """The HTTP status of a GET without credentials (what a leaked link would get)."""
        try:
            with urllib.request.urlopen(f"{self.server.endpoint}/{self.name}/{key}") as answer:  # noqa: S310
                return answer.status
        except urllib.error.HTTPError as refused:
            return refused.code
