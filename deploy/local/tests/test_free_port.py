"""Test servers' ports are taken below the kernel's ephemeral range, where no outgoing
connection can take them between the choice and the server's bind."""

from __future__ import annotations

import socket

from kairos_devstack.processes import ephemeral_ports, free_port


def test_a_free_port_is_bindable_and_outside_the_ephemeral_range() -> None:
    ephemeral = ephemeral_ports()
    ports = {free_port() for _ in range(50)}
    assert all(10_000 <= port < ephemeral.start for port in ports), sorted(ports)
    assert len(ports) > 40, "chosen at random, not the same few"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", ports.pop()))
