"""S3Storage against a real S3 API over HTTP (moto's server): what it keeps, what it refuses, what an outage says."""

from __future__ import annotations

import hashlib
import io
import os
import secrets

import pytest

from common.config import Settings
from common.errors import BadInput, NotFound, TooLarge
from common.s3_storage import S3Storage, make_client
from common.storage import LocalStorage, StorageUnavailable, build_storage
from tests.s3_server import MotoS3Server
from tests.servers import free_port

MiB = 1024 * 1024
PART = 5 * MiB  # S3's smallest part


@pytest.fixture(scope="module")
def s3_server():
    server = MotoS3Server().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def storage(s3_server) -> S3Storage:
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in s3_server.env("unit-bucket", "files").items()},
                        s3_part_size_mb=5)
    built = build_storage(settings)
    assert isinstance(built, S3Storage)
    assert built.ensure_bucket() is True and built.ensure_bucket() is False  # created once, then kept
    return built


def test_a_small_file_is_one_object_with_its_hash_head_and_size(storage, s3_server, tmp_path):
    data = b"SKU,Nombre\n" + secrets.token_bytes(20_000)
    key = storage.new_key("imports", ".csv")

    stored = storage.save_stream(io.BytesIO(data), key=key, max_bytes=MiB)

    assert (stored.size, stored.sha256, stored.head) == (len(data), hashlib.sha256(data).hexdigest(), data[:8192])
    assert s3_server.keys("unit-bucket") == [f"files/{key}"]  # under the URL's prefix
    assert storage.size(key) == len(data)
    with storage.open(key) as handle:
        assert handle.read() == data
    with storage.local_copy(key) as path:
        assert path.read_bytes() == data and path.suffix == ".csv"
    assert not path.exists()  # the temporary copy is gone afterwards

    storage.delete(key)
    storage.delete(key)  # already gone: fine
    with pytest.raises(NotFound) as gone:
        storage.size(key)
    assert gone.value.code == "file_gone"
    with pytest.raises(NotFound), storage.local_copy(key):
        pass


def test_a_file_above_one_part_goes_up_as_a_multipart_upload(storage, s3_server):
    data = os.urandom(2 * PART + 12345)
    key = storage.new_key("documents", ".pdf")

    stored = storage.save_stream(io.BytesIO(data), key=key, max_bytes=3 * PART)

    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    head = s3_server.client().head_object(Bucket="unit-bucket", Key=f"files/{key}")
    assert head["ETag"].strip('"').endswith("-3")  # S3's mark of an object assembled from 3 parts
    with storage.open(key) as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == stored.sha256
    storage.delete(key)


def test_an_upload_over_the_cap_is_aborted_and_leaves_nothing(storage, s3_server):
    key = storage.new_key("imports", ".xlsx")

    with pytest.raises(TooLarge) as refused:
        storage.save_stream(io.BytesIO(os.urandom(3 * PART)), key=key, max_bytes=PART + 1)

    assert refused.value.code == "upload_too_large"
    assert f"files/{key}" not in s3_server.keys("unit-bucket")
    assert s3_server.unfinished_uploads("unit-bucket") == []  # the multipart upload was aborted


def test_empty_files_and_keys_outside_the_prefix_are_refused(storage, s3_server):
    before = s3_server.keys("unit-bucket")
    with pytest.raises(BadInput) as empty:
        storage.save_stream(io.BytesIO(b""), key="imports/empty.csv", max_bytes=MiB)
    assert empty.value.code == "file_empty"
    for key in ("../other/x", "/abs", "a/../../b", ""):
        with pytest.raises(NotFound):
            storage.save_bytes(b"x", key=key)
    assert s3_server.keys("unit-bucket") == before


def test_an_unreachable_endpoint_is_storage_unavailable_at_once():
    settings = Settings(_env_file=None, storage_url="s3://nowhere", s3_endpoint_url=f"http://127.0.0.1:{free_port()}",
                        s3_access_key_id="k", s3_secret_access_key="s")
    storage = build_storage(settings)
    calls = (lambda: storage.save_bytes(b"x", key="a/b"), lambda: storage.size("a/b"), lambda: storage.delete("a/b"),
             lambda: storage.local_copy("a/b").__enter__())
    for call in calls:
        with pytest.raises(StorageUnavailable) as down:
            call()
        assert down.value.status_code == 503 and down.value.code == "storage_unavailable"
        assert "almacenamiento" in down.value.message


def test_a_missing_bucket_is_unavailable_not_a_crash(s3_server):
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in s3_server.env("never-created").items()})
    with pytest.raises(StorageUnavailable):
        build_storage(settings).save_bytes(b"x", key="a/b")


def test_the_default_is_the_local_folder(tmp_path):
    assert build_storage(Settings(_env_file=None, var_dir=tmp_path)).root == (tmp_path / "files").resolve()
    local = build_storage(Settings(_env_file=None, storage_url=f"file://{tmp_path}/elsewhere"))
    assert isinstance(local, LocalStorage) and local.root == (tmp_path / "elsewhere").resolve()


def test_credentials_can_come_from_files(s3_server, tmp_path):
    (tmp_path / "key").write_text("test-access-key\n")
    (tmp_path / "secret").write_text("test-secret-key\n")
    settings = Settings(_env_file=None, storage_url="s3://unit-bucket", s3_endpoint_url=s3_server.endpoint,
                        s3_access_key_id_file=tmp_path / "key", s3_secret_access_key_file=tmp_path / "secret")
    credentials = make_client(settings)._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key) == ("test-access-key", "test-secret-key")


def test_list_files_names_the_objects_under_a_folder_with_size_and_time_as_local_storage_does(storage, tmp_path):
    local = LocalStorage(tmp_path / "files")
    keys = {}
    for backend in (storage, local):
        keys[backend] = [backend.new_key("cleanup-test", ".csv") for _ in range(3)]
        for number, key in enumerate(keys[backend]):
            backend.save_bytes(b"x" * (number + 1), key=key)
        backend.save_bytes(b"other", key=backend.new_key("cleanup-other"))

    for backend in (storage, local):
        listed = sorted(backend.list_files("cleanup-test"), key=lambda entry: entry.size)
        assert [(entry.key, entry.size) for entry in listed] == [(key, n + 1) for n, key in enumerate(keys[backend])]
        assert all(entry.modified_at.tzinfo is not None for entry in listed)
        assert list(backend.list_files("nothing-here")) == []
