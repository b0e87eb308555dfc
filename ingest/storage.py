"""Where data lives: a local directory or an `s3://bucket/prefix` URI, one code path.

Every reader and writer resolves its location here and then talks to a
`pyarrow.fs.FileSystem`, so local runs, MinIO/moto and AWS S3 share all code.
Credentials and region come from the usual AWS environment and config files;
`AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`) points at an S3-compatible server.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs


@dataclass(frozen=True)
class Location:
    """A resolved data location: filesystem plus a path inside it (no scheme)."""

    fs: pafs.FileSystem
    path: str
    uri: str

    @property
    def is_local(self) -> bool:
        return isinstance(self.fs, pafs.LocalFileSystem)

    def join(self, *parts: str) -> Location:
        path = "/".join([self.path.rstrip("/"), *[p.strip("/") for p in parts]])
        uri = "/".join([self.uri.rstrip("/"), *[p.strip("/") for p in parts]])
        return Location(self.fs, path, uri)

    def exists(self) -> bool:
        return self.fs.get_file_info(self.path).type != pafs.FileType.NotFound

    def makedirs(self) -> None:
        if self.is_local:
            self.fs.create_dir(self.path, recursive=True)

    def dataset(self, schema: pa.Schema | None = None) -> ds.Dataset:
        """Hive-partitioned Parquet dataset below this location."""
        return ds.dataset(
            self.path,
            filesystem=self.fs,
            format="parquet",
            partitioning="hive",
            schema=schema,
            exclude_invalid_files=False,
            ignore_prefixes=[".", "_"],
        )

    def parquet_files(self) -> list[str]:
        """Paths of all Parquet files below this location (temporary files excluded)."""
        if not self.exists():
            return []
        infos = self.fs.get_file_info(pafs.FileSelector(self.path, recursive=True))
        return sorted(
            i.path
            for i in infos
            if i.type == pafs.FileType.File
            and i.path.endswith(".parquet")
            and not any(part.startswith((".", "_")) for part in i.path[len(self.path) :].split("/"))
        )


def fsync_dir(path: str) -> None:
    """Make a rename or unlink inside local directory `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(target: Location, data: bytes) -> None:
    """Write `data` to `target` atomically: readers see the old content or all the new one.

    Local files are written under a dot-prefixed temporary name, fsynced and renamed;
    an S3 put is atomic by itself.

    Raises:
        OSError: the write failed (nothing partial is left under the target name).
    """
    if not target.is_local:
        with target.fs.open_output_stream(target.path) as out:
            out.write(data)
        return
    parent, name = target.path.rsplit("/", 1)
    os.makedirs(parent, exist_ok=True)
    tmp = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
    try:
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target.path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    fsync_dir(parent)


def list_names(folder: Location) -> list[str]:
    """Names of the files directly inside `folder` (none if it does not exist), sorted."""
    infos = folder.fs.get_file_info(pafs.FileSelector(folder.path, allow_not_found=True))
    return sorted(i.base_name for i in infos if i.type == pafs.FileType.File)


def delete_file(target: Location) -> None:
    """Remove `target`; a file already gone is not an error."""
    try:
        target.fs.delete_file(target.path)
    except FileNotFoundError:
        return


def _s3_filesystem() -> pafs.S3FileSystem:
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    kwargs: dict[str, object] = {}
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        kwargs["endpoint_override"] = host or scheme
        kwargs["scheme"] = scheme if host else "https"
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        kwargs["region"] = region
    return pafs.S3FileSystem(**kwargs)


def resolve(uri: str) -> Location:
    """Location for a local path or an `s3://` URI.

    Raises:
        ValueError: the URI scheme is not supported (only local paths and s3://).
    """
    if uri.startswith("s3://"):
        return Location(_s3_filesystem(), uri[len("s3://") :].rstrip("/"), uri.rstrip("/"))
    if "://" in uri:
        raise ValueError(f"unsupported storage URI {uri!r}: use a local path or s3://bucket/prefix")
    path = os.path.abspath(uri)
    return Location(pafs.LocalFileSystem(), path, path)
