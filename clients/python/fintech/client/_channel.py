"""mTLS channels to the platform: the only way this SDK connects (there is no plaintext variant).

The caller presents its client certificate (its identity is the certificate's
SPIFFE URI SAN) and verifies the server against the bank's CA. Keepalive and
message size limits are set here so every client behaves the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import grpc

ChannelOption = tuple[str, int | str]

DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
"""Largest message sent or received (contract and regulation documents travel whole)."""
DEFAULT_KEEPALIVE_TIME_S = 60.0
"""Ping an idle-looking connection after this long, so a dead peer or NAT drop is found."""
DEFAULT_KEEPALIVE_TIMEOUT_S = 20.0
"""Close the connection when a ping is not answered within this long."""


def _read(path: str | Path, parameter: str) -> bytes:
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{parameter}: no such file: {file}") from None
    except OSError as error:
        raise OSError(f"{parameter}: cannot read {file}: {error.strerror}") from error
    if b"-----BEGIN " not in data:
        raise ValueError(f"{parameter}: {file} is not a PEM file")
    return data


def _credentials(ca_file: str | Path, cert_file: str | Path, key_file: str | Path) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=_read(ca_file, "ca_file"),
        private_key=_read(key_file, "key_file"),
        certificate_chain=_read(cert_file, "cert_file"),
    )


def channel_options(
    *,
    server_name_override: str | None = None,
    keepalive_time_s: float = DEFAULT_KEEPALIVE_TIME_S,
    keepalive_timeout_s: float = DEFAULT_KEEPALIVE_TIMEOUT_S,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    options: Sequence[ChannelOption] = (),
) -> list[ChannelOption]:
    """The gRPC channel arguments this SDK uses; ``options`` entries win over the defaults.

    Args:
        server_name_override: Verify the server certificate against this name instead of the
            target's host (for example when connecting to an IP address).
        keepalive_time_s: Seconds between keepalive pings while calls are active. The server must
            permit pings this often (``grpc.http2.min_ping_interval_without_data_ms``).
        keepalive_timeout_s: Seconds to wait for a ping's answer before closing the connection.
        max_message_bytes: Limit on each message sent and received.
        options: Extra ``(name, value)`` channel arguments.

    Returns:
        The channel arguments.

    Raises:
        ValueError: A limit is not positive.
    """
    if keepalive_time_s <= 0 or keepalive_timeout_s <= 0:
        raise ValueError("keepalive_time_s and keepalive_timeout_s must be > 0")
    if max_message_bytes <= 0:
        raise ValueError(f"max_message_bytes must be > 0, got {max_message_bytes}")
    merged: dict[str, int | str] = {
        "grpc.keepalive_time_ms": int(keepalive_time_s * 1000),
        "grpc.keepalive_timeout_ms": int(keepalive_timeout_s * 1000),
        # Only ping while calls are in flight: idle pings get a client GOAWAY'd by a strict server.
        "grpc.keepalive_permit_without_calls": 0,
        "grpc.max_send_message_length": max_message_bytes,
        "grpc.max_receive_message_length": max_message_bytes,
        # Retries are this SDK's job (one policy table); gRPC's own would multiply attempts.
        "grpc.enable_retries": 0,
    }
    if server_name_override is not None:
        if not server_name_override:
            raise ValueError("server_name_override must not be empty")
        merged["grpc.ssl_target_name_override"] = server_name_override
    for name, value in options:
        merged[name] = value
    return list(merged.items())


def _check_target(target: str) -> None:
    if not isinstance(target, str) or not target.strip():
        raise ValueError("target must be 'host:port', got an empty value")
    if target.startswith(("http://", "https://")):
        raise ValueError(f"target must be 'host:port' (no URL scheme), got {target!r}")


def secure_channel(
    target: str,
    *,
    ca_file: str | Path,
    cert_file: str | Path,
    key_file: str | Path,
    server_name_override: str | None = None,
    keepalive_time_s: float = DEFAULT_KEEPALIVE_TIME_S,
    keepalive_timeout_s: float = DEFAULT_KEEPALIVE_TIMEOUT_S,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    options: Sequence[ChannelOption] = (),
) -> grpc.aio.Channel:
    """Open an mTLS ``grpc.aio`` channel to ``target``.

    Args:
        target: ``host:port`` of the service (or of Envoy).
        ca_file: PEM file of the CA that signed the server's certificate.
        cert_file: PEM file of this caller's client certificate (its identity).
        key_file: PEM file of the client certificate's private key.
        server_name_override: Name to verify the server certificate against, if not the host.
        keepalive_time_s: See :func:`channel_options`.
        keepalive_timeout_s: See :func:`channel_options`.
        max_message_bytes: See :func:`channel_options`.
        options: Extra gRPC channel arguments.

    Returns:
        The channel; close it with ``await channel.close()`` or ``async with``.

    Raises:
        FileNotFoundError: A certificate or key file is missing (the message names the parameter).
        ValueError: A file is not PEM, or the target or a limit is invalid.
    """
    _check_target(target)
    return grpc.aio.secure_channel(
        target,
        _credentials(ca_file, cert_file, key_file),
        options=channel_options(
            server_name_override=server_name_override,
            keepalive_time_s=keepalive_time_s,
            keepalive_timeout_s=keepalive_timeout_s,
            max_message_bytes=max_message_bytes,
            options=options,
        ),
    )


def secure_channel_sync(
    target: str,
    *,
    ca_file: str | Path,
    cert_file: str | Path,
    key_file: str | Path,
    server_name_override: str | None = None,
    keepalive_time_s: float = DEFAULT_KEEPALIVE_TIME_S,
    keepalive_timeout_s: float = DEFAULT_KEEPALIVE_TIMEOUT_S,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    options: Sequence[ChannelOption] = (),
) -> grpc.Channel:
    """Open a blocking mTLS ``grpc`` channel to ``target``; arguments as for :func:`secure_channel`.

    Returns:
        The channel; close it with ``channel.close()`` or ``with``.
    """
    _check_target(target)
    return grpc.secure_channel(
        target,
        _credentials(ca_file, cert_file, key_file),
        options=channel_options(
            server_name_override=server_name_override,
            keepalive_time_s=keepalive_time_s,
            keepalive_timeout_s=keepalive_timeout_s,
            max_message_bytes=max_message_bytes,
            options=options,
        ),
    )
