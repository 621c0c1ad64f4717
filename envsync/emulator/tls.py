"""HTTPS for the emulator: a certificate for 127.0.0.1, localhost and ::1, issued at start by
a throwaway CA (trustme). Clients trust it through the CA bundle file it writes, named by
REQUESTS_CA_BUNDLE (`envsync emulator --tls` prints `CA bundle: PATH`): verification stays on.
Bearer tokens need it: azure-storage-blob, like Azure Storage, refuses them over plain http."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path


def server_context(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server-side TLS context, and the CA bundle that verifies it (written in `directory`)."""
    import trustme

    authority = trustme.CA(organization_name="envsync emulator")
    certificate = authority.issue_cert("127.0.0.1", "localhost", "::1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    bundle = directory / "emulator-ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    return context, bundle


def wrap(listener: socket.socket, context: ssl.SSLContext) -> socket.socket:
    # The handshake happens in each connection's own thread (`handshake`), not in the loop that
    # accepts connections: a slow or broken client cannot stall the others.
    return context.wrap_socket(listener, server_side=True, do_handshake_on_connect=False)


def handshake(connection: socket.socket) -> bool:
    """Finish a TLS handshake; False when the client gave up or spoke plain http."""
    if not isinstance(connection, ssl.SSLSocket):
        return True
    try:
        connection.do_handshake()
    except (OSError, ssl.SSLError):
        return False
    return True
