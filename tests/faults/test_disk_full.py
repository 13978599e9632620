"""The storage folder's disk fills up: uploads are refused with a clear 507, nothing half-written stays.

The folder is a real 2 MB tmpfs mounted for this module (root is needed to mount it; without it the
module is skipped): writes fail with ENOSPC from the kernel, as on a full disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.faults.outage_helpers import inventory_csv, local_files, new_store, stock_skus, upload_inventory
from tests.jobs_helpers import wait_for_job

DISK_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def small_disk(work_dir):
    mount_point = work_dir / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.strip() or mounted.returncode}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture(scope="module")
def stack_env(small_disk) -> dict[str, str]:
    return {"STORAGE_URL": f"file://{small_disk}", "STORAGE_DIR": str(small_disk)}


def big_inventory(size: int) -> bytes:
    line = b"SKU;Nombre;Stock;Precio\n"
    row = b"X-0001;Pienso;1;1,00\n"
    return line + row * (size // len(row))


def test_an_upload_larger_than_the_free_space_gets_507_and_leaves_no_partial_file(admin, small_disk, fault_stack):
    # fault: a 3 MB upload into storage on a 2 MB disk
    # expected: 507 `storage_full` with a Spanish message, no job recorded, no byte of it left on the disk
    store = new_store(admin)
    jobs_before = admin.get("petshop", "/jobs/", params={"limit": 200}).json()

    refused = upload_inventory(admin, store, big_inventory(3 * 1024 * 1024))

    assert refused.status_code == 507, refused.text
    assert refused.json()["code"] == "storage_full"
    assert "No queda espacio en el disco" in refused.json()["detail"]
    assert admin.get("petshop", "/jobs/", params={"limit": 200}).json() == jobs_before
    assert local_files(fault_stack) == []
    assert shutil.disk_usage(small_disk).used < 64 * 1024  # the partial file's blocks are free again


def test_on_a_full_disk_a_small_upload_is_refused_and_once_space_is_freed_it_goes_through(admin, small_disk, fault_stack,
                                                                                          worker):
    # fault: the disk is already full (another program's file) when a small inventory is uploaded
    # expected: 507 `storage_full`, nothing left; once the space is freed, the same upload is imported
    store = new_store(admin)
    content, skus = inventory_csv(20)
    ballast = small_disk / "ballast"
    with open(ballast, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:  # ENOSPC: the disk is full
            pass
    try:
        refused = upload_inventory(admin, store, content)

        assert refused.status_code == 507, refused.text
        assert refused.json()["code"] == "storage_full"
        assert local_files(fault_stack) == []
    finally:
        os.unlink(ballast)

    accepted = upload_inventory(admin, store, content)
    assert accepted.status_code == 202, accepted.text
    assert wait_for_job(admin, "petshop", accepted.json()["task_id"])["status"] == "completed"
    assert set(stock_skus(admin, store)) == skus
