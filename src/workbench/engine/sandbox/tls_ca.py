"""The engine's local certificate authority for the egress proxy (``egress_proxy.py``).

To add a credential to an HTTPS request of sandboxed code the proxy has to read the request,
so for hosts that get a credential (and only those) it ends the code's TLS itself with a
certificate for the host, issued on the fly by this CA. The CA's key stays in the engine's
data dir (``egress-ca/``, mode 0600, never inside a sandbox); the sandbox gets a bundle of
the system's CAs plus this CA's certificate and is pointed at it (``SSL_CERT_FILE`` …).

Keys are ECDSA P-256 (fast to make); leaf certificates live in memory, one per host, and
are re-issued when the process restarts.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
LEAF_DAYS = 30
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)


_CA_USAGE = x509.KeyUsage(
    digital_signature=True, content_commitment=False, key_encipherment=False,
    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
    encipher_only=False, decipher_only=False,
)  # fmt: skip


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


class LocalCA:
    """A CA kept in ``directory`` (made on first use), issuing leaf certificates per host."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._key: ec.EllipticCurvePrivateKey | None = None
        self._cert: x509.Certificate | None = None
        self._contexts: dict[str, ssl.SSLContext] = {}

    @property
    def cert_path(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def bundle_path(self) -> Path:
        """System CAs plus this CA, the file the sandbox trusts."""
        return self.directory / "bundle.pem"

    def ensure(self) -> None:
        """Load the CA, or make it (and the bundle) the first time."""
        with self._lock:
            if self._cert is not None:
                return
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            key_path = self.directory / "ca-key.pem"
            loaded = self._load(key_path)
            key, cert = loaded if loaded is not None else self._make(key_path)
            self._key, self._cert = key, cert
            self._write_bundle(cert)

    def _load(self, key_path: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None:
        """The stored CA, or None when missing, unreadable, damaged or about to expire."""
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), None)
            cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        except (OSError, ValueError, TypeError):
            return None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
            return None
        if cert.not_valid_after_utc < _now() + dt.timedelta(days=LEAF_DAYS):
            return None
        return key, cert

    def _make(self, key_path: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Workbench engine"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Workbench engine egress CA"),
        ])  # fmt: skip
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(minutes=5))
            .not_valid_after(_now() + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_CA_USAGE, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_private(
            key_path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        self.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return key, cert

    def _write_bundle(self, cert: x509.Certificate) -> None:
        parts: list[bytes] = []
        for candidate in SYSTEM_BUNDLES:
            try:
                parts.append(Path(candidate).read_bytes().rstrip(b"\n") + b"\n")
                break
            except OSError:
                continue
        parts.append(cert.public_bytes(serialization.Encoding.PEM))
        tmp = self.bundle_path.with_suffix(".tmp")
        tmp.write_bytes(b"".join(parts))
        os.replace(tmp, self.bundle_path)

    def server_context(self, host: str) -> ssl.SSLContext:
        """A TLS server context presenting a certificate for ``host`` signed by this CA."""
        self.ensure()
        with self._lock:
            cached = self._contexts.get(host)
            if cached is not None:
                return cached
            assert self._key is not None and self._cert is not None
            key = ec.generate_private_key(ec.SECP256R1())
            try:
                alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
            except ValueError:
                alt = x509.DNSName(host)
            ca_public = self._key.public_key()
            cert = (
                x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])]))
                .issuer_name(self._cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(_now() - dt.timedelta(minutes=5))
                .not_valid_after(_now() + dt.timedelta(days=LEAF_DAYS))
                .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(
                    x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
                )
                .add_extension(
                    x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False
                )
                .sign(self._key, hashes.SHA256())
            )
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            with tempfile.TemporaryDirectory(prefix="wb-leaf-") as tmp:
                pem = Path(tmp) / "leaf.pem"
                _write_private(
                    pem,
                    key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    )
                    + cert.public_bytes(serialization.Encoding.PEM),
                )
                context.load_cert_chain(pem)
            self._contexts[host] = context
            return context
