"""Tests for pipelines.data.download against a local HTTP server (no network)."""

import functools
import hashlib
import http.server
import socket
import threading

import pytest

from pipelines.data.download import (
    ChecksumMismatchError,
    DatasetNotFoundError,
    DownloadError,
    download_file,
    resolve_dataset_dir,
    sha256_file,
)

FILES = {"a.bin": bytes(range(256)) * 64, "b.txt": b"hello planetoid\n"}
DIGESTS = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}
WRONG = "0" * 64


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


class _TruncatingHandler(http.server.BaseHTTPRequestHandler):
    """Promises 1000 bytes and sends 10, like a connection dropped mid-body."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"x" * 10)
        self.close_connection = True

    def log_message(self, *args):
        pass


def _serve(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    server, thread, url = _serve(functools.partial(_QuietHandler, directory=str(root)))
    yield url
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Cache in tmp_path, no ZOO_DATA_DIR, and HOME moved so ~/.cache is never touched."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZOO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    return tmp_path / "cache"


def _closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens once the socket is closed: connections are refused.
    return f"http://127.0.0.1:{port}/"


def _all_files(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def test_sha256_file(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(FILES["a.bin"])
    assert sha256_file(path) == DIGESTS["a.bin"]


def test_download_into_cache_and_verify(server, isolated_env):
    folder = resolve_dataset_dir("toy", list(FILES), urls=server, sha256=DIGESTS)
    assert folder == isolated_env / "toy"
    for name, data in FILES.items():
        assert (folder / name).read_bytes() == data
    assert _all_files(folder) == sorted(FILES)  # no leftover .part files

    # Second call is served from the cache, even with the server unreachable.
    again = resolve_dataset_dir("toy", list(FILES), urls=_closed_port_url(), sha256=DIGESTS)
    assert again == folder


def test_download_only_missing_files_into_partial_cache(server, isolated_env):
    _write(isolated_env / "toy", {"b.txt": FILES["b.txt"]})
    folder = resolve_dataset_dir("toy", list(FILES), urls={"a.bin": server + "a.bin"}, sha256=DIGESTS)
    assert (folder / "a.bin").read_bytes() == FILES["a.bin"]


def test_download_file_standalone(server, tmp_path):
    dest = tmp_path / "out" / "b.txt"
    assert download_file(server + "b.txt", dest) == dest
    assert dest.read_bytes() == FILES["b.txt"]
    download_file(server + "a.bin", dest, sha256=DIGESTS["a.bin"])  # replaces atomically
    assert dest.read_bytes() == FILES["a.bin"]


def test_checksum_mismatch_leaves_nothing(server, isolated_env):
    with pytest.raises(ChecksumMismatchError) as info:
        resolve_dataset_dir("toy", ["a.bin"], urls=server, sha256={"a.bin": WRONG})
    message = str(info.value)
    assert "a.bin" in message and WRONG in message and DIGESTS["a.bin"] in message
    assert (info.value.expected, info.value.actual) == (WRONG, DIGESTS["a.bin"])
    assert _all_files(isolated_env) == []


def test_download_file_checksum_mismatch_keeps_existing_dest(server, tmp_path):
    dest = tmp_path / "dl" / "b.txt"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    with pytest.raises(ChecksumMismatchError):
        download_file(server + "b.txt", dest, sha256=WRONG)
    assert dest.read_bytes() == b"old"
    assert _all_files(dest.parent) == ["b.txt"]


def test_http_404_leaves_nothing(server, isolated_env, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        download_file(server + "missing.bin", tmp_path / "dl" / "missing.bin")
    assert _all_files(tmp_path / "dl") == []

    with pytest.raises(DatasetNotFoundError, match="404") as info:
        resolve_dataset_dir("toy", ["missing.bin"], urls=server)
    assert isinstance(info.value.__cause__, DownloadError)
    assert _all_files(isolated_env) == []


def test_truncated_body_leaves_nothing(tmp_path):
    server, thread, url = _serve(_TruncatingHandler)
    try:
        with pytest.raises(DownloadError, match="truncated|IncompleteRead"):
            download_file(url + "big.bin", tmp_path / "dl" / "big.bin")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert _all_files(tmp_path / "dl") == []


def test_resolution_order(tmp_path, monkeypatch, isolated_env):
    explicit, env_root = tmp_path / "explicit", tmp_path / "env"
    _write(explicit, {"a.bin": b"explicit"})
    _write(env_root / "toy", {"a.bin": b"env"})
    _write(isolated_env / "toy", {"a.bin": b"cache"})
    monkeypatch.setenv("ZOO_DATA_DIR", str(env_root))

    assert resolve_dataset_dir("toy", ["a.bin"], data_dir=explicit) == explicit
    assert resolve_dataset_dir("toy", ["a.bin"]) == env_root / "toy"
    # A folder missing any file is skipped, not used half-complete.
    assert resolve_dataset_dir("toy", ["a.bin"], data_dir=tmp_path / "nowhere") == env_root / "toy"
    monkeypatch.delenv("ZOO_DATA_DIR")
    assert resolve_dataset_dir("toy", ["a.bin"]) == isolated_env / "toy"


def test_incomplete_folder_falls_through(tmp_path, monkeypatch):
    env_root = tmp_path / "env"
    _write(tmp_path / "explicit", {"a.bin": FILES["a.bin"]})  # b.txt missing
    _write(env_root / "toy", FILES)
    monkeypatch.setenv("ZOO_DATA_DIR", str(env_root))
    folder = resolve_dataset_dir("toy", list(FILES), data_dir=tmp_path / "explicit", sha256=DIGESTS)
    assert folder == env_root / "toy"


def test_corrupt_existing_file_is_detected(tmp_path, monkeypatch, isolated_env):
    env_root = tmp_path / "env"
    _write(env_root / "toy", {"a.bin": FILES["a.bin"][:-1], "b.txt": FILES["b.txt"]})
    _write(isolated_env / "toy", FILES)  # a good copy exists, but the corrupt one wins the order
    monkeypatch.setenv("ZOO_DATA_DIR", str(env_root))
    with pytest.raises(ChecksumMismatchError) as info:
        resolve_dataset_dir("toy", list(FILES), sha256=DIGESTS)
    message = str(info.value)
    assert "a.bin" in message and DIGESTS["a.bin"] in message
    assert sha256_file(env_root / "toy" / "a.bin") in message
    assert info.value.path == env_root / "toy" / "a.bin"


def test_corrupt_cached_file_is_not_silently_redownloaded(server, isolated_env):
    _write(isolated_env / "toy", {"b.txt": b"garbage"})
    with pytest.raises(ChecksumMismatchError, match="b.txt"):
        resolve_dataset_dir("toy", list(FILES), urls=server, sha256=DIGESTS)
    assert _all_files(isolated_env) == ["b.txt"]


def test_offline_and_missing_names_files_and_folders(tmp_path, monkeypatch, isolated_env):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "env"))
    with pytest.raises(DatasetNotFoundError) as info:
        resolve_dataset_dir("toy", list(FILES), data_dir=tmp_path / "explicit",
                            urls=_closed_port_url(), sha256=DIGESTS)
    error = info.value
    message = str(error)
    assert isinstance(error, OSError)
    for name in FILES:
        assert name in message
    for folder in (tmp_path / "explicit", tmp_path / "env" / "toy", isolated_env / "toy"):
        assert str(folder) in message
    assert "ZOO_DATA_DIR" in message and "data_dir" in message
    assert set(error.missing) == set(FILES)
    assert error.searched == (tmp_path / "explicit", tmp_path / "env" / "toy", isolated_env / "toy")
    assert _all_files(isolated_env) == []


def test_missing_without_urls(isolated_env):
    with pytest.raises(DatasetNotFoundError, match="ZOO_DATA_DIR is not set"):
        resolve_dataset_dir("toy", ["a.bin"])


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        (dict(subdir="../up", files=["a.bin"]), "subdir"),
        (dict(subdir="toy", files=[]), "files"),
        (dict(subdir="toy", files="a.bin"), "files"),
        (dict(subdir="toy", files=["/etc/passwd"]), "files"),
        (dict(subdir="toy", files=["a.bin"], sha256={"a.bin": "xyz"}), "sha256"),
        (dict(subdir="toy", files=["a.bin"], sha256={"other": WRONG}), "sha256"),
        (dict(subdir="toy", files=["a.bin"], urls=42), "urls"),
    ],
)
def test_argument_errors_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=f"`{argument}"):
        resolve_dataset_dir(**kwargs)


def test_download_file_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="url="):
        download_file("ftp://example.org/x", tmp_path / "x")
    with pytest.raises(ValueError, match="timeout="):
        download_file("http://127.0.0.1/x", tmp_path / "x", timeout=0)
